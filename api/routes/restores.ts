import { Router } from 'express';
import type { Storage } from '@google-cloud/storage';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../../temporal.config';
import { jobKindKey, organizationIdKey, resellerIdKey, tenantIdKey } from '../../temporal/search-attributes';
import { GUID_PATTERN } from '../../tenants/types';
import { RESTORABLE_TYPES, type RestoreState, type RestoreTarget } from '../../restore/types';
import { openTenantRepository } from '../../restore/tenant-repository';
import { cancelRestoreUpdate, confirmRestoreUpdate, restoreStateQuery, restoreWorkflow } from '../../workflows';
import { requireReseller, resellerOf } from '../auth';
import { actorOf, principalOf } from '../auth/principal';
import { auditAs } from '../audit/audit-trail';
import { badRequest, notFound, ProblemError } from '../problem';
import { ownedTenant } from '../owned-tenants';

export interface RestoreRouteDeps {
  client: Client;
  storage: Storage;
  config: AppConfig;
}

/** One restore per tenant at a time: the workflow id is the tenant's, each restore is one run of it. */
const restoreWorkflowIdOf = (tenantId: string) => `restore:${tenantId}`;
const MAX_OBJECTS = 500;
const DEFAULT_CONFIRMATION_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Object-level restore: ask for a plan, read it, confirm it by its hash. Resellers only. The plan and report are
 * read from the tenant's bucket, where the restore workflow stored them.
 */
export function restoreRoutes(deps: RestoreRouteDeps): Router {
  const router = Router();
  router.use('/tenants/:tenantId/restores', requireReseller);

  router.post('/tenants/:tenantId/restores', async (req, res) => {
    const tenantId = req.params.tenantId;
    const { record } = await ownedTenant(deps.client, resellerOf(res), tenantId);
    const body = req.body as {
      snapshotId: string;
      objects: RestoreTarget[];
      conditionalAccessState?: 'report-only' | 'as-captured';
      confirmationTimeoutSeconds?: number;
    };
    auditAs(
      res,
      'restore.request',
      `tenant:${tenantId}`,
      `snapshot ${body.snapshotId}, ${body.objects?.length} object(s)`,
    );
    if (!Array.isArray(body.objects) || body.objects.length === 0 || body.objects.length > MAX_OBJECTS) {
      throw badRequest('body.objects', `must name 1 to ${MAX_OBJECTS} objects`);
    }
    body.objects.forEach((o, i) => {
      if (!RESTORABLE_TYPES.includes(o.type)) {
        throw badRequest(
          `body.objects[${i}].type`,
          `'${o.type}' is not restorable (restorable types: ${RESTORABLE_TYPES.join(', ')})`,
        );
      }
    });
    const repo = await openTenantRepository(deps.storage, deps.config.storage.masterKey, record);
    if (!(await repo.listSnapshots()).some((s) => s.id === body.snapshotId)) {
      throw badRequest('body.snapshotId', `unknown snapshot '${body.snapshotId}'`);
    }
    const known = new Map<string, Set<string>>();
    for (const [i, o] of body.objects.entries()) {
      let ids = known.get(o.type);
      if (!ids) {
        ids = new Set((await repo.listEntries(body.snapshotId, o.type)).map((e) => e.id));
        known.set(o.type, ids);
      }
      if (!ids.has(o.id)) throw badRequest(`body.objects[${i}].id`, `${o.type} '${o.id}' is not in the snapshot`);
    }
    const workflowId = restoreWorkflowIdOf(tenantId);
    let handle;
    try {
      handle = await deps.client.workflow.start(restoreWorkflow, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId,
        args: [
          {
            tenantId,
            resellerId: record.resellerId,
            directory: record.directory,
            storage: record.storage,
            snapshotId: body.snapshotId,
            objects: body.objects.map((o) => ({ type: o.type, id: o.id })),
            conditionalAccessState: body.conditionalAccessState ?? 'report-only',
            requestedBy: actorOf(principalOf(res)),
            confirmationTimeoutMs: (body.confirmationTimeoutSeconds ?? 0) * 1000 || DEFAULT_CONFIRMATION_TIMEOUT_MS,
            consentTimeoutMs: deps.config.entra.consentTimeoutMs,
            startedAt: new Date().toISOString(),
          },
        ],
        typedSearchAttributes: [
          { key: tenantIdKey, value: tenantId },
          { key: organizationIdKey, value: record.organizationId },
          { key: resellerIdKey, value: record.resellerId },
          { key: jobKindKey, value: 'restore' },
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ProblemError({
          title: 'Conflict',
          status: 409,
          detail:
            'a restore of this tenant is already running: a second one is refused (not queued); retry when it ended',
        });
      }
      throw err;
    }
    const restoreId = handle.firstExecutionRunId;
    auditAs(res, 'restore.request', `tenant:${tenantId}/restore:${restoreId}`);
    // Answer with the consent URL when one is needed, or the plan when it is ready soon enough.
    let state: RestoreState | undefined;
    for (let waited = 0; waited < 10_000; waited += 250) {
      state = await handle.query(restoreStateQuery).catch(() => undefined);
      if (state && state.status !== 'planning') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    res
      .status(202)
      .location(`/tenants/${tenantId}/restores/${restoreId}`)
      .json(state ?? { restoreId, status: 'planning' });
  });

  async function restoreOf(tenantId: string, restoreId: string) {
    if (!GUID_PATTERN.test(restoreId)) throw notFound(`restore '${restoreId}'`);
    const handle = deps.client.workflow.getHandle(restoreWorkflowIdOf(tenantId), restoreId);
    try {
      return { handle, state: await handle.query(restoreStateQuery) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`restore '${restoreId}'`);
      throw err;
    }
  }

  router.get('/tenants/:tenantId/restores/:restoreId', async (req, res) => {
    const { record } = await ownedTenant(deps.client, resellerOf(res), req.params.tenantId);
    const { state } = await restoreOf(req.params.tenantId, req.params.restoreId);
    const repo = await openTenantRepository(deps.storage, deps.config.storage.masterKey, record);
    const plan = state.plan ? await repo.readDocument(state.plan.key) : undefined;
    const report = state.report ? await repo.readDocument(state.report.key) : undefined;
    res.json({ ...state, ...(plan ? { planDetail: plan } : {}), ...(report ? { reportDetail: report } : {}) });
  });

  router.post('/tenants/:tenantId/restores/:restoreId/confirmation', async (req, res) => {
    const { tenantId, restoreId } = req.params;
    await ownedTenant(deps.client, resellerOf(res), tenantId);
    const { planHash } = req.body as { planHash: string };
    auditAs(res, 'restore.confirm', `tenant:${tenantId}/restore:${restoreId}`, `plan ${planHash}`);
    const { handle, state: before } = await restoreOf(tenantId, restoreId);
    if (before.status !== 'awaiting-confirmation') {
      throw new ProblemError({
        title: 'Conflict',
        status: 409,
        detail: `this restore is ${before.status}, not waiting for a confirmation`,
      });
    }
    try {
      const state = await handle.executeUpdate(confirmRestoreUpdate, {
        args: [{ planHash, confirmedBy: actorOf(principalOf(res)) }],
      });
      res.status(202).json(state);
    } catch (err) {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'StalePlanHash') {
        throw new ProblemError({
          title: 'Conflict',
          status: 409,
          detail: cause.message,
          errors: [{ field: 'body.planHash', message: cause.message }],
        });
      }
      if (cause instanceof ApplicationFailure && cause.type === 'NotAwaitingConfirmation') {
        throw new ProblemError({ title: 'Conflict', status: 409, detail: cause.message });
      }
      // An ended restore (cancelled, expired…) has no workflow left to take the update: say what it is instead.
      const now = await handle.query(restoreStateQuery).catch(() => undefined);
      if (now && now.status !== 'awaiting-confirmation') {
        throw new ProblemError({
          title: 'Conflict',
          status: 409,
          detail: `this restore is ${now.status}, not waiting for a confirmation`,
        });
      }
      throw err;
    }
  });

  /**
   * Cancel a plan waiting for its confirmation. Idempotent: cancelling a cancelled restore answers it again (200),
   * even once its workflow has closed; a restore in any other state is a 409 naming that state.
   */
  router.post('/tenants/:tenantId/restores/:restoreId/cancellation', async (req, res) => {
    const { tenantId, restoreId } = req.params;
    await ownedTenant(deps.client, resellerOf(res), tenantId);
    auditAs(res, 'restore.cancel', `tenant:${tenantId}/restore:${restoreId}`);
    const { handle, state } = await restoreOf(tenantId, restoreId);
    if (state.status === 'cancelled') {
      res.json(state);
      return;
    }
    try {
      const cancelled = await handle.executeUpdate(cancelRestoreUpdate, {
        args: [{ cancelledBy: actorOf(principalOf(res)) }],
        // One update id per restore: Temporal answers a repeated request with the first one's result.
        updateId: `cancel:${restoreId}`,
      });
      res.json(cancelled);
    } catch (err) {
      // A concurrent cancel may have closed the workflow between the query and the update.
      const now = await handle.query(restoreStateQuery).catch(() => undefined);
      if (now?.status === 'cancelled') {
        res.json(now);
        return;
      }
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'NotAwaitingConfirmation') {
        throw new ProblemError({ title: 'Conflict', status: 409, detail: cause.message });
      }
      if (now) {
        throw new ProblemError({
          title: 'Conflict',
          status: 409,
          detail: `this restore is ${now.status}: only a plan waiting for its confirmation can be cancelled`,
        });
      }
      throw err;
    }
  });

  return router;
}
