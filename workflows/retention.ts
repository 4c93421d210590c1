import {
  ActivityFailure,
  isCancellation,
  patched,
  proxyActivities,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowTuning } from '../workflow-constants';
import { jobKindKey, jobStatusKey, resellerIdKey, tenantIdKey } from '../temporal/search-attributes';
import type { StorageLocation } from '../tenants/types';

export interface RetentionInput {
  tenantId: string;
  resellerId: string;
  storage: StorageLocation;
  graceMs?: number;
  /** Prune at least this often even when nothing expired (crash leftovers; Archiver never expires anything). */
  pruneEveryMs?: number;
  /** Tests shorten it to see a killed worker's run retried in seconds. */
  heartbeatTimeoutMs?: number;
}

/** Deletes a tenant's expired snapshots and then the data no kept snapshot references. */
export async function retentionWorkflow(
  input: RetentionInput,
): Promise<Awaited<ReturnType<Activities['applyRetention']>>> {
  upsertSearchAttributes([
    { key: tenantIdKey, value: input.tenantId },
    { key: resellerIdKey, value: input.resellerId },
    { key: jobKindKey, value: 'retention' },
    { key: jobStatusKey, value: 'running' },
  ]);
  const { applyRetention } = proxyActivities<Activities>({
    ...workflowTuning.retention,
    heartbeatTimeout: input.heartbeatTimeoutMs ?? workflowTuning.retention.heartbeatTimeout,
  });
  try {
    const result = await applyRetention({
      tenantId: input.tenantId,
      storage: input.storage,
      graceMs: input.graceMs,
      pruneEveryMs: input.pruneEveryMs,
      now: new Date().toISOString(),
    });
    upsertSearchAttributes([{ key: jobStatusKey, value: 'completed' }]);
    return result;
  } catch (err) {
    // Runs started before this version ended without a final status on failure; they replay that way.
    if (patched('final-status-on-every-path')) {
      const cancelled = isCancellation(err);
      const reason = cancelled
        ? 'retention was cancelled'
        : err instanceof ActivityFailure
          ? (err.cause?.message ?? err.message)
          : String(err);
      upsertMemo({ reason });
      upsertSearchAttributes([{ key: jobStatusKey, value: cancelled ? 'cancelled' : 'failed' }]);
    }
    throw err;
  }
}
