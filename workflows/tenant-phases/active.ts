import { ApplicationFailure, patched, setHandler } from '@temporalio/workflow';
import { tenantTiming } from '../../workflow-constants';
import { backupScheduleId, type LastBackup } from '../../tenants/types';
import { backupFinishedSignal, backupNowUpdate } from '../tenant-messages';
import { TENANT_PATCH, tenantActivities, type TenantState } from './state';

/** Active: the daily schedule runs, Backup now starts a run, each run reports how it ended. */
export function registerActiveHandlers(state: TenantState): void {
  const { record } = state;
  setHandler(
    backupNowUpdate,
    async () => {
      state.firstBackupTriggered = true;
      return await tenantActivities.triggerBackup({ tenantId: state.tenant.tenantId });
    },
    {
      validator: () => {
        if (record.status !== 'active' && record.status !== 'backups-failing') {
          throw ApplicationFailure.create({
            type: 'TenantNotActive',
            message:
              record.status === 'reauthorization-required'
                ? 'reauthorization required: an admin must consent to the Backup app again'
                : 'the Backup app has not been authorized yet',
          });
        }
      },
    },
  );
  setHandler(backupFinishedSignal, (last) => {
    record.lastBackup = last;
    if (patched(TENANT_PATCH.authFailureKindsOnly)) trackFailingBackups(state, last);
  });
}

/**
 * Backups that fail for another reason than consent leave the tenant Active (the schedule keeps trying); when they
 * have failed for longer than the tenant's threshold it shows "Backups failing", until one works again.
 */
function trackFailingBackups(state: TenantState, last: LastBackup): void {
  const { record } = state;
  if (last.status === 'running') return;
  if (last.status !== 'failed') {
    record.backupsFailingSince = undefined;
    if (record.status === 'backups-failing') {
      record.status = 'active';
      state.statusChanged = true;
    }
    return;
  }
  if (record.status !== 'active' && record.status !== 'backups-failing') return;
  record.backupsFailingSince ??= new Date().toISOString();
  const threshold = state.tenant.backupsFailingAfterMs ?? tenantTiming.backupsFailingAfterMs;
  if (record.status === 'active' && Date.now() - Date.parse(record.backupsFailingSince) >= threshold) {
    record.status = 'backups-failing';
    state.statusChanged = true;
  }
}

/** Consent verified: the daily schedule exists and runs, and the first backup starts if the reseller asked. */
export async function activate(state: TenantState): Promise<void> {
  const { record, tenant: t } = state;
  await tenantActivities.ensureBackupSchedule({
    tenantId: t.tenantId,
    resellerId: t.resellerId,
    organizationId: t.organizationId,
    directory: t.directory,
    storage: t.storage,
  });
  record.scheduleId = backupScheduleId(t.tenantId);
  if (record.schedulePaused) {
    await tenantActivities.setBackupSchedulePaused({
      tenantId: t.tenantId,
      paused: false,
      note: 'consent granted again',
    });
    record.schedulePaused = false;
  }
  record.status = 'active';
  record.backupsFailingSince = undefined;
  if (t.backupImmediately && !state.firstBackupTriggered) {
    state.firstBackupTriggered = true;
    const started = await tenantActivities.triggerBackup({ tenantId: t.tenantId });
    record.lastBackup = { workflowId: started.workflowId, status: 'running', at: new Date().toISOString() };
  }
}
