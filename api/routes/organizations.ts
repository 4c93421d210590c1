import { Router } from 'express';
import type { AccountsDirectory } from '../../accounts/types';
import { ownedOrganization, principalOf, requireReseller, resellerOf } from '../auth';
import { auditAs } from '../audit/audit-trail';

/**
 * A reseller's organizations (its customers). Resellers create and list them; an organization user sees only its own.
 * Request bodies have been validated against the OpenAPI document before these handlers run.
 */
export function organizationRoutes(deps: { accounts: AccountsDirectory }): Router {
  const router = Router();

  router.post('/organizations', requireReseller, async (req, res) => {
    const { resellerId } = resellerOf(res);
    const { name } = req.body as { name: string };
    const organization = await deps.accounts.createOrganization(resellerId, { name });
    auditAs(res, 'organization.create', `organization:${organization.id}`);
    res.status(201).location(`/organizations/${organization.id}`).json(organization);
  });

  router.get('/organizations', async (_req, res) => {
    const principal = principalOf(res);
    const all = await deps.accounts.listOrganizations(principal.resellerId);
    const organizations = principal.kind === 'reseller' ? all : all.filter((o) => o.id === principal.organizationId);
    res.json({ organizations });
  });

  router.get('/organizations/:organizationId', async (req, res) => {
    res.json(await ownedOrganization(deps.accounts, principalOf(res), req.params.organizationId));
  });

  return router;
}
