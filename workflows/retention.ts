import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowTuning } from '../temporal.config';
import { jobKindKey, jobStatusKey, resellerIdKey, tenantIdKey } from '../temporal/search-attributes';
import type { StorageLocation } from '../tenants/types';

const { applyRetention } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Prune waits for running backups of the tenant (their locks) by failing and retrying, for up to a day.
  retry: {
    ...workflowTuning.shortActivity.retry,
    initialInterval: '30 seconds',
    maximumInterval: '30 minutes',
    maximumAttempts: 60,
  },
});

/** Deletes a tenant's expired snapshots and then the data no kept snapshot references. */
export async function retentionWorkflow(input: {
  tenantId: string;
  resellerId: string;
  storage: StorageLocation;
  graceMs?: number;
}): Promise<Awaited<ReturnType<Activities['applyRetention']>>> {
  upsertSearchAttributes([
    { key: tenantIdKey, value: input.tenantId },
    { key: resellerIdKey, value: input.resellerId },
    { key: jobKindKey, value: 'retention' },
    { key: jobStatusKey, value: 'running' },
  ]);
  const result = await applyRetention({
    tenantId: input.tenantId,
    storage: input.storage,
    graceMs: input.graceMs,
    now: new Date().toISOString(),
  });
  upsertSearchAttributes([{ key: jobStatusKey, value: 'completed' }]);
  return result;
}
