import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowTuning } from '../temporal.config';
import { jobStatusKey } from '../temporal/search-attributes';
import { tenantWorkflowId, type BackupTarget } from '../tenants/types';
import { authFailedSignal, backupFinishedSignal } from './tenant-messages';

const { checkTenantAccess } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
  retry: {
    ...workflowTuning.shortActivity.retry,
    nonRetryableErrorTypes: ['ConsentRevoked', 'PermissionMissing', 'TenantNotFound', 'AppCredentialsInvalid'],
  },
});

export type BackupRunStatus = 'completed' | 'reauthorization-required';

/**
 * One backup run of one tenant, started by the daily schedule or Backup now. For now it checks that the Backup app
 * can still read the tenant and reports the outcome to the tenant; capturing objects is the backup engine's issue.
 * A refused token turns the tenant to "Reauthorization required" instead of failing every day.
 */
export async function tenantBackupWorkflow(target: BackupTarget): Promise<{ status: BackupRunStatus }> {
  const tenant = getExternalWorkflowHandle(tenantWorkflowId(target.tenantId));
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([{ key: jobStatusKey, value: 'running' }]);
  try {
    await checkTenantAccess({ directory: target.directory });
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
    upsertSearchAttributes([{ key: jobStatusKey, value: 'reauthorization-required' }]);
    return { status: 'reauthorization-required' };
  }
  await tenant.signal(backupFinishedSignal, { workflowId, status: 'completed', at: new Date().toISOString() });
  upsertSearchAttributes([{ key: jobStatusKey, value: 'completed' }]);
  return { status: 'completed' };
}
