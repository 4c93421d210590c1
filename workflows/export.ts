import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { exportCleanupWorkflowId, exportObjectPrefix } from '../exports/object-names';
import type { ExportProgress, ExportRequest, ExportResult } from '../exports/types';
import { workflowTuning } from '../workflow-constants';
import { jobStatusKey } from '../temporal/search-attributes';
import { exportProgressQuery, exportProgressSignal } from './export-messages';
import { recordJobDuration } from './job-metrics';

/** Versions of this workflow's commands (Temporal `patched()`), as in tenant-backup.ts. */
const PATCH = {
  /** A cancelled export ends as cancelled, not failed. */
  cancelledIsNotFailed: 'export-cancelled-is-not-failed',
  /** The final progress is in the memo (recordFinalProgress). */
  progressMemo: 'export-progress-memo',
} as const;

const { ensureExportLifecycle, deleteExportObjects } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
  retry: workflowTuning.shortActivity.retry,
});

/**
 * Download: one zip of JSON (a tenant, one type or one object of a snapshot) in the tenant's bucket, deleted when its
 * link expires. The API starts it (JobKind `export`) and signs the link from its result; history holds ids and
 * counts only. The cleanup runs on its own, started first, so even a failed export leaves nothing behind.
 */
export async function exportWorkflow(req: ExportRequest): Promise<ExportResult> {
  const progress: ExportProgress = { status: 'building', objects: 0, bytes: 0 };
  setHandler(exportProgressQuery, () => progress);
  setHandler(exportProgressSignal, ({ objects, bytes }) => {
    progress.objects = Math.max(progress.objects, objects);
    progress.bytes = Math.max(progress.bytes, bytes);
  });
  upsertSearchAttributes([{ key: jobStatusKey, value: 'running' }]);

  await startChild(exportCleanupWorkflow, {
    workflowId: exportCleanupWorkflowId(req.tenantId, req.exportId),
    args: [{ bucket: req.storage.bucket, prefix: exportObjectPrefix(req), deleteAt: req.expiresAt }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  await ensureExportLifecycle({ bucket: req.storage.bucket });

  const { buildExport } = proxyActivities<Activities>({
    startToCloseTimeout: workflowTuning.pagingActivity.startToCloseTimeout,
    heartbeatTimeout: req.heartbeatTimeoutMs ?? workflowTuning.pagingActivity.heartbeatTimeout,
    retry: { ...workflowTuning.pagingActivity.retry, nonRetryableErrorTypes: ['ExportRefused', 'IntegrityError'] },
  });
  try {
    const result = await buildExport(req);
    progress.status = 'completed';
    progress.objects = result.objects;
    progress.bytes = result.bytes;
    upsertSearchAttributes([{ key: jobStatusKey, value: 'completed' }]);
    recordFinalProgress(progress);
    recordJobDuration('export', 'completed');
    return result;
  } catch (err) {
    if (isCancellation(err) && patched(PATCH.cancelledIsNotFailed)) {
      // Cancelled (the API's cancel, or a terminated parent): a true final state, and the cleanup still runs.
      progress.status = 'cancelled';
      progress.error = 'the export was cancelled';
      upsertSearchAttributes([{ key: jobStatusKey, value: 'cancelled' }]);
      recordFinalProgress(progress);
      recordJobDuration('export', 'cancelled');
      throw err;
    }
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    progress.status = 'failed';
    progress.error = cause?.message ?? (err as Error).message;
    upsertSearchAttributes([{ key: jobStatusKey, value: 'failed' }]);
    recordFinalProgress(progress);
    recordJobDuration('export', 'failed');
    throw ApplicationFailure.create({
      type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'ExportFailed',
      message: progress.error,
      nonRetryable: true,
    });
  }
}

/**
 * The finished export's progress in its memo, which visibility lists with the execution: the System Status list
 * (`GET /jobs`) shows what a finished export wrote without querying it (a query of a closed workflow replays its
 * history on a worker, one per listed export). Behind `patched()`: histories recorded before it have no such command.
 */
function recordFinalProgress(progress: ExportProgress): void {
  if (patched(PATCH.progressMemo)) upsertMemo({ progress: { ...progress } });
}

/**
 * Deletes an export when its link expires. A timer in Temporal, independent of the bucket's lifecycle rule (which a
 * bucket may not allow, and which acts only in whole days).
 */
export async function exportCleanupWorkflow(input: {
  bucket: string;
  prefix: string;
  deleteAt: string;
}): Promise<{ deleted: number }> {
  const wait = Date.parse(input.deleteAt) - Date.now();
  if (wait > 0) await sleep(wait);
  return deleteExportObjects({ bucket: input.bucket, prefix: input.prefix });
}
