import { Router } from 'express';
import type { StorageLocationConfig } from '../../temporal.config';
import { requireReseller } from '../auth';

/** The storage locations the operator offers (configuration); a reseller names one when adding a tenant. */
export function storageLocationRoutes(deps: { locations: StorageLocationConfig[] }): Router {
  const router = Router();
  router.get('/storage-locations', requireReseller, (_req, res) => {
    // Buckets and key references are the operator's business: resellers choose by id, region and name.
    res.json({
      locations: deps.locations.map(({ id, displayName, region }) => ({ id, displayName, region })),
    });
  });
  return router;
}
