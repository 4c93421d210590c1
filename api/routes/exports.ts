import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import type { Principal } from '../../accounts/types';
import { findObjectType } from '../../catalog';
import { exportWorkflowId, verifyWorkflowId } from '../../exports/object-names';
import type { ExportLevel, ExportRequest, VerifyRequest } from '../../exports/types';
import type { Repository } from '../../storage/repository';
import { createSigningStorage, signedDownloadUrl } from '../../storage/signed-urls';
import type { AppConfig } from '../../temporal.config';
import { jobKindKey, jobStatusKey, resellerIdKey, tenantIdKey } from '../../temporal/search-attributes';
import type { TenantRecord } from '../../tenants/types';
import { exportProgressQuery, exportWorkflow, verifyProgressQuery, verifyWorkflow } from '../../workflows';
import { requireReseller, resellerOf } from '../auth';
import { auditAs } from '../audit/audit-trail';
import { badRequest, notFound, ProblemError } from '../problem';
import { openTenantRepositoryForReading } from '../browse/tenant-repository';
import { ownedTenant } from '../owned-tenants';

export interface ExportRouteDeps {
  client: Client;
  storage: Storage;
  config: AppConfig;
}

/** The snapshot a request names (or the newest), when it exists and retention has not forgotten it; else 404. */
async function resolveSnapshot(repo: Repository | undefined, tenantId: string, snapshotId: string | undefined) {
  const snapshots = repo ? await repo.listSnapshots() : [];
  const found = snapshotId ? snapshots.find((s) => s.id === snapshotId) : snapshots[snapshots.length - 1];
  if (!found) throw notFound(snapshotId ? `snapshot '${snapshotId}'` : `a snapshot of tenant '${tenantId}'`);
  return found;
}

/** The failure message of a failed job: the activity's own (e.g. an integrity error naming object and pack). */
async function failureOf(handle: WorkflowHandle): Promise<string> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof WorkflowFailedError) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : 'failed';
}

/**
 * A job (export, verification) of a tenant the principal owns (else 404, as ownedTenant answers), and 404 naming
 * `what` when there is no such job: its handle, its description and the fields every answer about it starts with.
 */
async function ownedJob(
  client: Client,
  principal: Principal,
  tenantId: string,
  job: { jobId: string; workflowId: string; what: string },
) {
  await ownedTenant(client, principal, tenantId);
  const handle = client.workflow.getHandle(job.workflowId);
  const description = await handle.describe().catch((err: unknown) => {
    throw err instanceof WorkflowNotFoundError ? notFound(job.what) : err;
  });
  const base = { jobId: job.jobId, workflowId: job.workflowId, startedAt: description.startTime.toISOString() };
  return { handle, description, base };
}

/** What a job shows that neither runs nor completed: failed with its activity's reason, else how Temporal ended it. */
async function notCompleted<B>(handle: WorkflowHandle, status: string, base: B) {
  return status === 'FAILED'
    ? { ...base, status: 'failed', error: await failureOf(handle) }
    : { ...base, status: status.toLowerCase() };
}

/**
 * Download (zip exports) and verify jobs of a tenant. Both are Temporal workflows the System Status job list shows
 * (JobKind `export` / `verify`); these routes start them and show one. Requests are checked against the repository
 * first, so a refused one starts nothing and writes nothing.
 */
export function exportRoutes(deps: ExportRouteDeps): Router {
  const router = Router();
  const signing = createSigningStorage(deps.config.storage);
  const open = (record: TenantRecord) =>
    openTenantRepositoryForReading(deps.storage, deps.config.storage.masterKey, record);
  const searchAttributes = (record: TenantRecord, kind: 'export' | 'verify') => [
    { key: tenantIdKey, value: record.tenantId },
    { key: resellerIdKey, value: record.resellerId },
    { key: jobKindKey, value: kind },
    { key: jobStatusKey, value: 'queued' },
  ];

  router.post('/tenants/:tenantId/exports', requireReseller, async (req, res) => {
    const { tenantId } = req.params as { tenantId: string };
    auditAs(res, 'tenant.export', `tenant:${tenantId}`);
    const { record } = await ownedTenant(deps.client, resellerOf(res), tenantId);
    const body = req.body as { level: ExportLevel; snapshotId?: string; type?: string; objectId?: string };
    if (body.level !== 'tenant' && !body.type) throw badRequest('body.type', `is required for a ${body.level} export`);
    if (body.level === 'object' && !body.objectId)
      throw badRequest('body.objectId', 'is required for an object export');
    if (body.level === 'tenant' && (body.type || body.objectId)) {
      throw badRequest(body.type ? 'body.type' : 'body.objectId', 'is not allowed for a tenant export');
    }
    if (body.level === 'type' && body.objectId) throw badRequest('body.objectId', 'is not allowed for a type export');
    if (body.type && !findObjectType(body.type)) throw notFound(`object type '${body.type}'`);

    const repo = await open(record);
    const snapshot = await resolveSnapshot(repo, tenantId, body.snapshotId);
    if (body.type) {
      const coverage = snapshot.record.types[body.type];
      if (coverage?.status !== 'captured') {
        throw new ProblemError({
          title: 'Conflict',
          status: 409,
          detail: `type '${body.type}' was not captured in snapshot '${snapshot.id}'${coverage?.status === 'skipped' ? ` (${coverage.reason})` : ''}: an incomplete snapshot exports only its captured types`,
        });
      }
      if (body.objectId && !(await repo!.listEntries(snapshot.id, body.type)).some((e) => e.id === body.objectId)) {
        throw notFound(`object '${body.objectId}' of type '${body.type}' in snapshot '${snapshot.id}'`);
      }
    }

    const exportId = randomUUID();
    const input: ExportRequest = {
      exportId,
      tenantId,
      resellerId: record.resellerId,
      directory: record.microsoftTenantId ?? record.directory,
      storage: record.storage,
      snapshotId: snapshot.id,
      level: body.level,
      ...(body.type ? { type: body.type } : {}),
      ...(body.objectId ? { objectId: body.objectId } : {}),
      expiresAt: new Date(Date.now() + deps.config.exports.expirySeconds * 1000).toISOString(),
    };
    const workflowId = exportWorkflowId(tenantId, exportId);
    await deps.client.workflow.start(exportWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: searchAttributes(record, 'export'),
    });
    auditAs(res, 'tenant.export', `tenant:${tenantId}`, `export ${exportId} of snapshot ${snapshot.id}`);
    res
      .status(202)
      .location(`/tenants/${tenantId}/exports/${exportId}`)
      .json({ jobId: exportId, workflowId, status: 'building', snapshotId: snapshot.id, expiresAt: input.expiresAt });
  });

  router.get('/tenants/:tenantId/exports/:exportId', requireReseller, async (req, res) => {
    const { tenantId, exportId } = req.params as { tenantId: string; exportId: string };
    const { handle, description, base } = await ownedJob(deps.client, resellerOf(res), tenantId, {
      jobId: exportId,
      workflowId: exportWorkflowId(tenantId, exportId),
      what: `export '${exportId}'`,
    });
    switch (description.status.name) {
      case 'RUNNING': {
        const progress = await handle.query(exportProgressQuery);
        return void res.json({ ...base, status: 'building', progress });
      }
      case 'COMPLETED': {
        const result = await handle.result();
        const expiresAt = new Date(result.expiresAt);
        if (expiresAt.getTime() <= Date.now()) {
          return void res.json({ ...base, status: 'expired', expiresAt: result.expiresAt });
        }
        const { bucket, objectName, ...counts } = result;
        const url = await signedDownloadUrl(signing, bucket, objectName, expiresAt);
        return void res.json({ ...base, status: 'completed', url, ...counts });
      }
      default:
        return void res.json(await notCompleted(handle, description.status.name, base));
    }
  });

  router.post('/tenants/:tenantId/verifications', requireReseller, async (req, res) => {
    const { tenantId } = req.params as { tenantId: string };
    auditAs(res, 'tenant.verify', `tenant:${tenantId}`);
    const { record } = await ownedTenant(deps.client, resellerOf(res), tenantId);
    const body = (req.body ?? {}) as { snapshotId?: string };
    const repo = await open(record);
    if (body.snapshotId) await resolveSnapshot(repo, tenantId, body.snapshotId);
    else if (!repo) throw notFound(`a backup repository of tenant '${tenantId}'`);
    const verifyId = randomUUID();
    const input: VerifyRequest = {
      verifyId,
      tenantId,
      resellerId: record.resellerId,
      storage: record.storage,
      ...(body.snapshotId ? { snapshotId: body.snapshotId } : {}),
    };
    const workflowId = verifyWorkflowId(tenantId, verifyId);
    await deps.client.workflow.start(verifyWorkflow, {
      taskQueue: deps.config.temporal.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: searchAttributes(record, 'verify'),
    });
    res
      .status(202)
      .location(`/tenants/${tenantId}/verifications/${verifyId}`)
      .json({ jobId: verifyId, workflowId, status: 'running', scope: body.snapshotId ? 'snapshot' : 'repository' });
  });

  router.get('/tenants/:tenantId/verifications/:verifyId', requireReseller, async (req, res) => {
    const { tenantId, verifyId } = req.params as { tenantId: string; verifyId: string };
    const { handle, description, base } = await ownedJob(deps.client, resellerOf(res), tenantId, {
      jobId: verifyId,
      workflowId: verifyWorkflowId(tenantId, verifyId),
      what: `verification '${verifyId}'`,
    });
    switch (description.status.name) {
      case 'RUNNING':
        return void res.json({ ...base, ...(await handle.query(verifyProgressQuery)) });
      case 'COMPLETED': {
        const report = await handle.result();
        return void res.json({ ...base, status: report.ok ? 'ok' : 'damaged', report });
      }
      default:
        return void res.json(await notCompleted(handle, description.status.name, base));
    }
  });

  return router;
}
