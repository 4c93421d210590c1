import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { AccountsDirectory } from '../../accounts/types';
import type { AppConfig } from '../../temporal.config';
import { tenantStartSearchAttributes } from '../../temporal/search-attributes';
import { tenantListSearchValuesOf } from '../../tenants/list-entry';
import {
  DOMAIN_PATTERN,
  GUID_PATTERN,
  isLegacyStorage,
  locatedStorage,
  tenantWorkflowId,
  type NewTenantInput,
  type Plan,
  type TenantRecord,
} from '../../tenants/types';
import { backupNowUpdate, changePlanUpdate, requestConsentUpdate, tenantQuery, tenantWorkflow } from '../../workflows';
import { ownedOrganization, requireReseller, resellerOf } from '../auth';
import { auditAs } from '../audit/audit-trail';
import { badRequest } from '../problem';
import { ownedTenant, tenantUpdate } from '../owned-tenants';
import { listTenantPage, type TenantListFilters } from './tenant-list';

export interface TenantRouteDeps {
  client: Client;
  accounts: AccountsDirectory;
  config: AppConfig;
}

/** Customer tenants: add, list, show, change plan, request consent, Update now, Backup now. Resellers only. */
export function tenantRoutes(deps: TenantRouteDeps): Router {
  const router = Router();
  router.use('/tenants', requireReseller);

  router.post('/tenants', async (req, res) => {
    const reseller = resellerOf(res);
    const body = req.body as {
      organizationId: string;
      directory: string;
      storageLocationId: string;
      plan: Plan;
      backupImmediately?: boolean;
    };
    auditAs(res, 'tenant.create', `organization:${body.organizationId}`);
    const location = deps.config.storage.locations.find((l) => l.id === body.storageLocationId);
    if (!location) {
      throw badRequest(
        'body.storageLocationId',
        `unknown storage location '${body.storageLocationId}' (GET /storage-locations lists them)`,
      );
    }
    if (!GUID_PATTERN.test(body.directory) && !DOMAIN_PATTERN.test(body.directory)) {
      throw badRequest('body.directory', 'must be a Microsoft tenant id (GUID) or a verified domain name');
    }
    const organization = await ownedOrganization(deps.accounts, reseller, body.organizationId).catch(() => {
      throw badRequest('body.organizationId', `unknown organization '${body.organizationId}'`);
    });
    const tenantId = randomUUID();
    const input: NewTenantInput = {
      tenantId,
      resellerId: reseller.resellerId,
      organizationId: organization.id,
      directory: body.directory.toLowerCase(),
      // The bucket comes from the operator's location, the prefix from the tenant's ids (storage/locations.ts).
      storage: locatedStorage(location),
      plan: body.plan,
      backupImmediately: body.backupImmediately ?? false,
      consentTimeoutMs: deps.config.entra.consentTimeoutMs,
      backupsFailingAfterMs: deps.config.backup.failingAfterMs,
      createdAt: new Date().toISOString(),
    };
    const handle = await deps.client.workflow.start(tenantWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: tenantWorkflowId(tenantId),
      args: [{ tenant: input }],
      typedSearchAttributes: tenantStartSearchAttributes(input, tenantListSearchValuesOf(input)),
    });
    auditAs(res, 'tenant.create', `tenant:${tenantId}`);
    res
      .status(201)
      .location(`/tenants/${tenantId}`)
      .json(present(await handle.query(tenantQuery)));
  });

  // The dashboard's list: paged, filtered and searched from the memo each tenant workflow keeps (tenant-list.ts).
  router.get('/tenants', async (req, res) => {
    const reseller = resellerOf(res);
    const q = req.query as Record<string, string | undefined>;
    if (q.organizationId) await ownedOrganization(deps.accounts, reseller, q.organizationId);
    res.json(
      await listTenantPage(deps.client, reseller.resellerId, {
        organizationId: q.organizationId,
        status: q.status as TenantListFilters['status'],
        plan: q.plan as TenantListFilters['plan'],
        lastBackup: q.lastBackup as TenantListFilters['lastBackup'],
        search: q.search,
        pageSize: q.pageSize ? Number(q.pageSize) : 50,
        cursor: q.cursor,
      }),
    );
  });

  router.get('/tenants/:tenantId', async (req, res) => {
    const { record } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    res.json(present(record));
  });

  router.put('/tenants/:tenantId/plan', async (req, res) => {
    const { handle } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    const { plan } = req.body as { plan: Plan };
    auditAs(res, 'tenant.plan.change', `tenant:${req.params.tenantId}`, `to ${plan}`);
    const record = await tenantUpdate(() => handle.executeUpdate(changePlanUpdate, { args: [{ plan }] }), 'body.plan');
    res.json(present(record));
  });

  router.post('/tenants/:tenantId/consent-requests', async (req, res) => {
    const { handle } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    const { app, mode } = req.body as { app: 'backup' | 'restore'; mode?: 'permanent' | 'one-time' };
    auditAs(res, 'tenant.consent.request', `tenant:${req.params.tenantId}`, `${app} app`);
    const request = await tenantUpdate(
      () => handle.executeUpdate(requestConsentUpdate, { args: [{ app, mode }] }),
      'body',
    );
    res.status(201).json(request);
  });

  // "Update now" on a tenant that shows Reauthorization required: a fresh consent request for the Backup app.
  router.post('/tenants/:tenantId/reauthorize', async (req, res) => {
    const { handle } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    auditAs(res, 'tenant.reauthorize', `tenant:${req.params.tenantId}`);
    const request = await tenantUpdate(() => handle.executeUpdate(requestConsentUpdate, { args: [{ app: 'backup' }] }));
    res.status(201).json(request);
  });

  router.post('/tenants/:tenantId/backups', async (req, res) => {
    const { handle } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    auditAs(res, 'tenant.backup-now', `tenant:${req.params.tenantId}`);
    const started = await tenantUpdate(() => handle.executeUpdate(backupNowUpdate));
    res.status(started.alreadyRunning ? 200 : 202).json(started);
  });

  return router;
}

/** The tenant as the API shows it. */
function present(record: TenantRecord) {
  return {
    ...record,
    storage: presentStorage(record.storage),
    reauthorizationRequired: record.status === 'reauthorization-required',
  };
}

/** A located tenant shows its location; a legacy one the bucket and prefix it was created with, as they are. */
function presentStorage(storage: TenantRecord['storage']) {
  if (isLegacyStorage(storage)) return { ...storage, legacy: true };
  return { locationId: storage.locationId, region: storage.region };
}
