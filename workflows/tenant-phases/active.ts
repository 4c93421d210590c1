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
  flagIfFailingTooLong(state);
}

function flagIfFailingTooLong(state: TenantState): void {
  const { record } = state;
  const threshold = state.tenant.backupsFailingAfterMs ?? tenantTiming.backupsFailingAfterMs;
  if (record.status === 'active' && Date.now() - Date.parse(record.backupsFailingSince!) >= threshold) {
    record.status = 'backups-failing';
    state.statusChanged = true;
  }
}

/**
 * When an Active tenant must look at its backups although none reported back: a backup that never ends (stuck, never
 * started, no worker) sends no backupFinished, so the tenant keeps a timer of its own. The next one was due an
 * interval after the last run it heard of (or after consent made it active) and should have ended within the grace
 * period; once backups count as failing, the check is when they will have failed for the tenant's threshold.
 */
export function nextBackupCheck(state: TenantState): number | undefined {
  const { record } = state;
  const heard = lastHeardOfBackups(state);
  if (record.status !== 'active' || heard === undefined) return undefined;
  const { everyMs, graceMs } = overdueTiming(state);
  const overdue = heard + everyMs + graceMs;
  if (record.backupsFailingSince === undefined) return overdue;
  const threshold = state.tenant.backupsFailingAfterMs ?? tenantTiming.backupsFailingAfterMs;
  return Math.max(overdue, Date.parse(record.backupsFailingSince) + threshold);
}

/** The check's time has come and no backup reported back: the one that was due counts as failed since it was due. */
export function noteOverdueBackups(state: TenantState): void {
  const check = nextBackupCheck(state);
  if (check === undefined || Date.now() < check) return;
  state.record.backupsFailingSince ??= new Date(
    lastHeardOfBackups(state)! + overdueTiming(state).everyMs,
  ).toISOString();
  flagIfFailingTooLong(state);
}

/** The last time the tenant heard of a backup: its last run's report, or the consent that (re)activated it. */
function lastHeardOfBackups(state: TenantState): number | undefined {
  const times = [state.record.lastBackup?.at, state.record.backupApp.grantedAt].filter((t) => t !== undefined);
  return times.length > 0 ? Math.max(...times.map((t) => Date.parse(t))) : undefined;
}

function overdueTiming(state: TenantState): { everyMs: number; graceMs: number } {
  return (
    state.tenant.backupOverdue ?? { everyMs: tenantTiming.backupDueEveryMs, graceMs: tenantTiming.backupOverdueGraceMs }
  );
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
