import { Router } from 'express';
import type { AuditLog } from '../../accounts/types';
import { requireReseller, resellerOf } from '../auth';

/** GET /audit: the calling reseller's own audit entries, newest first. */
export function auditRoutes(deps: { audit: AuditLog }): Router {
  const router = Router();
  router.get('/audit', requireReseller, async (req, res) => {
    const { resellerId } = resellerOf(res);
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    res.json({ entries: await deps.audit.list(resellerId, { limit }) });
  });
  return router;
}
