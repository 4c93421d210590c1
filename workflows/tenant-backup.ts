import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import { countBackup } from './job-metrics';
import { listObjectTypes } from '../catalog';
import { isAuthFailureKind, retentionTiming, workflowTuning } from '../workflow-constants';
import { tenantWorkflowId, type BackupTarget, type LastBackup } from '../tenants/types';
import { authFailedSignal, backupFinishedSignal, permissionsMissingSignal } from './tenant-messages';
import type { BackupStatus } from './tenant-backup-messages';
import { BackupProgressBook } from './backup-progress';
import { retentionWorkflow } from './retention';

type TypeCapture = Awaited<ReturnType<Activities['captureType']>>;

export interface BackupOptions {
  /** Shorter heartbeat timeouts let tests see a killed worker's activity retried quickly. */
  heartbeatTimeoutMs?: number;
  /** Packs younger than this survive the retention run that follows the backup (default 24 h). */
  retentionGraceMs?: number;
  /** Tests shorten the access check's retries to see an outage outlast them in seconds rather than minutes. */
  accessCheckRetry?: Pick<RetryPolicy, 'initialInterval' | 'maximumInterval' | 'maximumAttempts'>;
}

export interface BackupResult {
  status: BackupStatus;
  snapshotId?: string;
  objects: number;
  skippedTypes: string[];
}

/**
 * Versions of this workflow's commands (Temporal `patched()`): a worker with this code replays backups started by
 * an older one the old way. Remove a patch (deprecatePatch, then delete) once no backup older than it can run.
 */
const PATCH = {
  /** An access check failing for another reason than consent fails the run instead of requiring reauthorization. */
  outageIsNotAuthFailure: 'outage-is-not-auth-failure',
  /** Every path ends with a final JobStatus (failed / cancelled too) and tells the tenant. */
  finalStatusOnEveryPath: 'final-status-on-every-path',
  /** The types and concurrency come from `decideBackupSettings` ('planBackup' read as the tenant's plan). */
  decideBackupSettings: 'decide-backup-settings',
} as const;

const { decideBackupSettings, planBackup, commitSnapshot } = proxyActivities<Activities>(workflowTuning.shortActivity);

/**
 * One backup of one tenant, started by the daily schedule or Backup now: check access → decide the types →
 * capture each type (its own activity, a few at a time) → commit the snapshot record with its coverage report →
 * tell the tenant → start retention. History holds counts and storage ids only, so it grows with object types, never
 * with objects. Consent problems turn the tenant to "Reauthorization required"; any other failure fails this run
 * with its reason and leaves the tenant Active, the schedule trying again the next day.
 */
export async function tenantBackupWorkflow(target: BackupTarget, options: BackupOptions = {}): Promise<BackupResult> {
  const tenant = tenantOf(target);
  const book = new BackupProgressBook(target.tenantId);
  book.publish('checking-access');
  try {
    const access = await checkAccess(target, options);
    if (access.refused) {
      await tenant.authFailed(access.refused);
      await tenant.finished({ status: 'failed', detail: access.refused.reason });
      book.publish('reauthorization-required');
      return { status: 'reauthorization-required', objects: 0, skippedTypes: [...listObjectTypes().map((t) => t.key)] };
    }
    if (access.missingRoles.length > 0) await tenant.permissionsMissing(access.missingRoles);

    const settings = patched(PATCH.decideBackupSettings) ? await decideBackupSettings() : await planBackup();
    // Backups started before the types were decided by the activity read the catalog here, as they did then.
    const types = settings.types ?? listObjectTypes().map((t) => t.key);
    book.planned(types);

    book.publish('capturing');
    const { captures, failed } = await captureTypes(target, types, settings.typeConcurrency, book, options);

    book.publish('committing');
    const committed = await commitSnapshot({ target, startedAt: book.progress.startedAt, captures, failed });
    book.progress.snapshotId = committed.snapshotId;
    const status: BackupStatus = committed.skippedTypes.length === 0 ? 'completed' : 'incomplete';

    await tenant.finished({
      status,
      snapshotId: committed.snapshotId,
      objects: committed.objects,
      skippedTypes: committed.skippedTypes,
      detail: status === 'incomplete' ? `skipped: ${committed.skippedTypes.join(', ')}` : undefined,
    });
    await startRetention(target, options);
    book.publish(status);
    return {
      status,
      snapshotId: committed.snapshotId,
      objects: committed.objects,
      skippedTypes: committed.skippedTypes,
    };
  } catch (err) {
    if (patched(PATCH.finalStatusOnEveryPath)) await endInFailure(err, book, tenant);
    throw err;
  }
}

/** The run failed or was cancelled: JobStatus, memo and the tenant's last backup say so, and why. */
async function endInFailure(err: unknown, book: BackupProgressBook, tenant: ReturnType<typeof tenantOf>) {
  const cancelled = isCancellation(err);
  const reason = cancelled ? 'the backup was cancelled' : failureMessage(err);
  book.publish(cancelled ? 'cancelled' : 'failed', reason);
  // Even when cancelled: the tenant must learn that this run is over.
  await CancellationScope.nonCancellable(() => tenant.finished({ status: 'failed', detail: reason })).catch(
    () => undefined, // the tenant workflow is gone: nobody to tell
  );
}

/**
 * Can the Backup app read the tenant? `refused` when an admin must consent again (only the auth failure kinds);
 * any other failure, once the check's retries are spent, is thrown: the run fails with its reason.
 */
async function checkAccess(
  target: BackupTarget,
  options: BackupOptions,
): Promise<{ missingRoles: string[]; refused?: { kind: string; reason: string } }> {
  const { checkTenantAccess } = proxyActivities<Activities>({
    ...workflowTuning.accessCheck,
    retry: { ...workflowTuning.accessCheck.retry, ...options.accessCheckRetry },
  });
  try {
    return await checkTenantAccess({ directory: target.directory });
  } catch (err) {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    if (!failure?.type) throw err;
    // Backups started before this version took every typed failure for a consent problem; they replay that way.
    if (isAuthFailureKind(failure.type) || !patched(PATCH.outageIsNotAuthFailure)) {
      return { missingRoles: [], refused: { kind: failure.type, reason: failure.message } };
    }
    throw ApplicationFailure.create({
      type: 'TenantUnreachable',
      message: `the tenant could not be checked: ${failure.message}`,
      nonRetryable: true,
    });
  }
}

/** Every type captured by its own activity, `concurrency` at a time; a type that fails for good is only skipped. */
async function captureTypes(
  target: BackupTarget,
  types: readonly string[],
  concurrency: number,
  book: BackupProgressBook,
  options: BackupOptions,
): Promise<{ captures: TypeCapture[]; failed: { type: string; detail: string }[] }> {
  const { captureType } = proxyActivities<Activities>({
    ...workflowTuning.pagingActivity,
    heartbeatTimeout: options.heartbeatTimeoutMs ?? workflowTuning.pagingActivity.heartbeatTimeout,
  });
  const captures: TypeCapture[] = [];
  const failed: { type: string; detail: string }[] = [];
  const queue = [...types];
  const lane = async () => {
    for (let type = queue.shift(); type; type = queue.shift()) {
      const entry = book.typeStarted(type);
      try {
        const capture = await captureType({ job: target, type });
        captures.push(capture);
        entry.captured(capture);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // Retries are exhausted or the failure is final: the snapshot says this type is missing, and why.
        const detail = err.cause?.message ?? err.message;
        failed.push({ type, detail });
        entry.failed(detail);
      } finally {
        entry.done();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { captures, failed };
}

/** Retention runs on its own (it may wait for other backups' locks); this backup does not wait for it. */
async function startRetention(target: BackupTarget, options: BackupOptions): Promise<void> {
  const { workflowId } = workflowInfo();
  await startChild(retentionWorkflow, {
    workflowId: `retention:${target.tenantId}:${workflowId}`,
    args: [
      {
        tenantId: target.tenantId,
        resellerId: target.resellerId,
        storage: target.storage,
        graceMs: options.retentionGraceMs,
        pruneEveryMs: retentionTiming.pruneEveryMs,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

/** The tenant workflow, as this backup talks to it. */
function tenantOf(target: BackupTarget) {
  const handle = getExternalWorkflowHandle(tenantWorkflowId(target.tenantId));
  const backupWorkflowId = workflowInfo().workflowId;
  return {
    authFailed: (refused: { kind: string; reason: string }) =>
      handle.signal(authFailedSignal, { ...refused, backupWorkflowId }),
    permissionsMissing: (missingRoles: string[]) =>
      handle.signal(permissionsMissingSignal, { missingRoles, backupWorkflowId }),
    finished: (last: Omit<LastBackup, 'workflowId' | 'at'>) => {
      // Every way a run ends tells the tenant, once: the one place to count backups by outcome.
      countBackup(last.status);
      return handle.signal(backupFinishedSignal, {
        workflowId: backupWorkflowId,
        at: new Date().toISOString(),
        ...last,
      });
    },
  };
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : String(err);
}
