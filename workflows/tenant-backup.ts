import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  defineQuery,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { listObjectTypes } from '../catalog';
import { workflowTuning } from '../temporal.config';
import { jobStatusKey } from '../temporal/search-attributes';
import { tenantWorkflowId, type BackupTarget } from '../tenants/types';
import { authFailedSignal, backupFinishedSignal, permissionsMissingSignal } from './tenant-messages';
import { retentionWorkflow } from './retention';

type TypeCapture = Awaited<ReturnType<Activities['captureType']>>;

export type BackupStatus =
  'checking-access' | 'capturing' | 'committing' | 'completed' | 'incomplete' | 'reauthorization-required';

/** What the System Status view shows of a running or finished backup. */
export interface BackupProgress {
  tenantId: string;
  status: BackupStatus;
  startedAt: string;
  typesTotal: number;
  typesDone: number;
  running: string[];
  objectsRead: number;
  requests: number;
  resourceUnits: number;
  throttled: number;
  throttleWaitMs: number;
  /** Time spent waiting for Graph's answers, summed over the types' activities. */
  graphMs: number;
  /** Time the types' capture activities took, summed (they overlap: this exceeds the backup's duration). */
  captureMs: number;
  /** Time spent storing what was read, summed over the types. */
  storageMs: number;
  skipped: { type: string; reason: string; detail?: string }[];
  /** Per captured type: how it was read and what it took. */
  types: Record<string, TypeProgress>;
  snapshotId?: string;
}

/** One captured type: how it was read, what it took and where its time went (the three overlap). */
export interface TypeProgress {
  readMode: 'full' | 'delta';
  objectsRead: number;
  /** When the capture started, in seconds after the backup did (types wait for a free slot). */
  startedAfterSeconds: number;
  seconds: number;
  resourceUnits: number;
  bytesStored: number;
  throttleWaitSeconds: number;
  graphSeconds: number;
  storageSeconds: number;
}

export const backupProgressQuery = defineQuery<BackupProgress>('backupProgress');

export interface BackupOptions {
  /** Shorter heartbeat timeouts let tests see a killed worker's activity retried quickly. */
  heartbeatTimeoutMs?: number;
  /** Packs younger than this survive the retention run that follows the backup (default 24 h). */
  retentionGraceMs?: number;
}

export interface BackupResult {
  status: BackupStatus;
  snapshotId?: string;
  objects: number;
  skippedTypes: string[];
}

const { checkTenantAccess, planBackup, commitSnapshot } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
  retry: {
    ...workflowTuning.shortActivity.retry,
    nonRetryableErrorTypes: ['ConsentRevoked', 'PermissionMissing', 'TenantNotFound', 'AppCredentialsInvalid'],
  },
});

/**
 * One backup of one tenant, started by the daily schedule or Backup now: every catalog type captured by its own
 * activity (a few at a time), then the snapshot record written last with the coverage report. History holds counts
 * and storage ids only, so it grows with object types, never with objects. A refused token turns the tenant to
 * "Reauthorization required" instead of failing every day.
 */
export async function tenantBackupWorkflow(target: BackupTarget, options: BackupOptions = {}): Promise<BackupResult> {
  const tenant = getExternalWorkflowHandle(tenantWorkflowId(target.tenantId));
  const { workflowId } = workflowInfo();
  const types = listObjectTypes().map((t) => t.key);
  const progress: BackupProgress = {
    tenantId: target.tenantId,
    status: 'checking-access',
    startedAt: new Date().toISOString(),
    typesTotal: types.length,
    typesDone: 0,
    running: [],
    objectsRead: 0,
    requests: 0,
    resourceUnits: 0,
    throttled: 0,
    throttleWaitMs: 0,
    graphMs: 0,
    captureMs: 0,
    storageMs: 0,
    skipped: [],
    types: {},
  };
  setHandler(backupProgressQuery, () => progress);
  const publish = (status: BackupStatus) => {
    progress.status = status;
    upsertSearchAttributes([{ key: jobStatusKey, value: status }]);
  };
  publish('checking-access');

  let access;
  try {
    access = await checkTenantAccess({ directory: target.directory });
  } catch (err) {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    if (!failure?.type) throw err;
    await tenant.signal(authFailedSignal, {
      kind: failure.type,
      reason: failure.message,
      backupWorkflowId: workflowId,
    });
    await tenant.signal(backupFinishedSignal, {
      workflowId,
      status: 'failed',
      at: new Date().toISOString(),
      detail: failure.message,
    });
    publish('reauthorization-required');
    return { status: 'reauthorization-required', objects: 0, skippedTypes: types };
  }
  if (access.missingRoles.length > 0) {
    await tenant.signal(permissionsMissingSignal, { missingRoles: access.missingRoles, backupWorkflowId: workflowId });
  }

  const plan = await planBackup();
  const { captureType } = proxyActivities<Activities>({
    startToCloseTimeout: workflowTuning.pagingActivity.startToCloseTimeout,
    heartbeatTimeout: options.heartbeatTimeoutMs ?? workflowTuning.pagingActivity.heartbeatTimeout,
    retry: workflowTuning.pagingActivity.retry,
  });

  publish('capturing');
  const captures: TypeCapture[] = [];
  const failed: { type: string; detail: string }[] = [];
  const queue = [...types];
  const worker = async () => {
    for (let type = queue.shift(); type; type = queue.shift()) {
      progress.running.push(type);
      const began = Date.now();
      try {
        const capture = await captureType({ job: target, type });
        progress.captureMs += Date.now() - began;
        progress.graphMs += capture.graph.graphMs;
        captures.push(capture);
        progress.requests += capture.graph.requests;
        progress.resourceUnits += capture.graph.resourceUnits;
        progress.throttled += capture.graph.throttled;
        progress.throttleWaitMs += capture.graph.throttleWaitMs;
        if (capture.status === 'captured') {
          progress.objectsRead += capture.objectsRead;
          progress.storageMs += capture.storageMs;
          progress.types[type] = {
            readMode: capture.readMode,
            objectsRead: capture.objectsRead,
            startedAfterSeconds: (began - Date.parse(progress.startedAt)) / 1000,
            seconds: (Date.now() - began) / 1000,
            resourceUnits: capture.graph.resourceUnits,
            bytesStored: capture.bytesWritten,
            throttleWaitSeconds: capture.graph.throttleWaitMs / 1000,
            graphSeconds: capture.graph.graphMs / 1000,
            storageSeconds: capture.storageMs / 1000,
          };
        } else progress.skipped.push({ type, reason: capture.reason, detail: capture.detail });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // Retries are exhausted or the failure is final: the snapshot says this type is missing, and why.
        const detail = err.cause?.message ?? err.message;
        failed.push({ type, detail });
        progress.skipped.push({ type, reason: 'graph-error', detail });
      } finally {
        progress.running = progress.running.filter((t) => t !== type);
        progress.typesDone++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.typeConcurrency) }, worker));

  publish('committing');
  const committed = await commitSnapshot({ target, startedAt: progress.startedAt, captures, failed });
  progress.snapshotId = committed.snapshotId;
  const status: BackupStatus = committed.skippedTypes.length === 0 ? 'completed' : 'incomplete';
  await tenant.signal(backupFinishedSignal, {
    workflowId,
    status,
    at: new Date().toISOString(),
    snapshotId: committed.snapshotId,
    objects: committed.objects,
    skippedTypes: committed.skippedTypes,
    detail: status === 'incomplete' ? `skipped: ${committed.skippedTypes.join(', ')}` : undefined,
  });

  // Retention runs on its own (it may wait for other backups' locks); this backup does not wait for it.
  await startChild(retentionWorkflow, {
    workflowId: `retention:${target.tenantId}:${workflowId}`,
    args: [
      {
        tenantId: target.tenantId,
        resellerId: target.resellerId,
        storage: target.storage,
        graceMs: options.retentionGraceMs,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  publish(status);
  return { status, snapshotId: committed.snapshotId, objects: committed.objects, skippedTypes: committed.skippedTypes };
}
