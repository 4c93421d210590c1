import { patched, setHandler } from '@temporalio/workflow';
import { isAuthFailureKind } from '../../workflow-constants';
import { authFailedSignal, permissionsMissingSignal, type AuthFailureReport } from '../tenant-messages';
import { TENANT_PATCH, tenantActivities, type TenantState } from './state';

/** Reports from backups that an admin must consent again. */
export function registerReauthorizationHandlers(state: TenantState): void {
  setHandler(authFailedSignal, (report) => void state.authFailures.push(report));
  setHandler(permissionsMissingSignal, ({ missingRoles }) => {
    const { record } = state;
    // Not paused: what the app may read is still backed up; the snapshot's coverage report names what is not.
    record.backupApp.missingRoles = missingRoles;
    record.backupApp.reason = `consent lacks ${missingRoles.join(', ')}: partial backups until an admin consents again`;
    if (record.status === 'active' || record.status === 'backups-failing') record.status = 'reauthorization-required';
  });
}

/** A backup found the tenant refusing the Backup app. Only the auth failure kinds get here since this version. */
export async function handleAuthFailure(state: TenantState, report: AuthFailureReport): Promise<void> {
  // A report of another kind came from a backup of an older version: its run failed, the consent did not.
  if (!isAuthFailureKind(report.kind) && patched(TENANT_PATCH.authFailureKindsOnly)) return;
  state.record.backupApp.state = 'revoked';
  state.record.backupApp.reason = report.reason;
  await requireReauthorization(state, report.reason);
}

export async function requireReauthorization(state: TenantState, reason: string): Promise<void> {
  const { record } = state;
  // A tenant never activated is still simply waiting for a (working) consent.
  if (record.status !== 'awaiting-consent') record.status = 'reauthorization-required';
  record.backupsFailingSince = undefined;
  if (record.scheduleId && !record.schedulePaused) {
    // Paused, not failing every day: nothing can succeed until an admin consents again.
    await tenantActivities.setBackupSchedulePaused({
      tenantId: state.tenant.tenantId,
      paused: true,
      note: `reauthorization required: ${reason}`,
    });
    record.schedulePaused = true;
  }
}
