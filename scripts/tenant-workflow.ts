import type { Client } from '@temporalio/client';
import { tenantWorkflowId, type BackupTarget, type Plan } from '../tenants/types';
import { tenantWorkflow } from '../workflows';

/**
 * Starts the tenant workflow of a backup target as the benchmarks and tests need it: no search attributes (it is not on
 * a reseller's list), no backup of its own (they run backups themselves), waiting `consentTimeoutMs` for a consent that
 * the simulated tenant already gave. Retention asks it for the tenant's plan, so it stays up while backups run.
 */
export function startTargetTenantWorkflow(
  client: Client,
  taskQueue: string,
  target: BackupTarget,
  options: { plan?: Plan; consentTimeoutMs: number },
) {
  return client.workflow.start(tenantWorkflow, {
    taskQueue,
    workflowId: tenantWorkflowId(target.tenantId),
    args: [
      {
        tenant: {
          ...target,
          plan: options.plan ?? 'backup',
          backupImmediately: false,
          consentTimeoutMs: options.consentTimeoutMs,
          createdAt: new Date().toISOString(),
        },
      },
    ],
  });
}
