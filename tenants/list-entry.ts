/**
 * What a list of tenants shows of each one (the dashboard, `GET /tenants`). The tenant workflow keeps this entry in
 * its memo, so a list reads every tenant's entry from Temporal's visibility store in one call instead of querying
 * each tenant's workflow. Pure: the tenant workflow imports it.
 */
import type { AppConsent, LastBackup, Plan, RestoreConsentMode, TenantRecord, TenantStatus } from './types';

export const tenantListMemoKey = 'tenantListEntry';

export interface TenantListEntry {
  tenantId: string;
  organizationId: string;
  directory: string;
  displayName?: string;
  plan: Plan;
  status: TenantStatus;
  /** Why the tenant needs reauthorization (or why its consent is not usable). */
  reason?: string;
  storageRegion: string;
  backupApp: Pick<AppConsent, 'state' | 'reason' | 'requestExpiresAt' | 'grantedAt'>;
  restoreApp: Pick<AppConsent, 'state' | 'reason'> & { mode: RestoreConsentMode };
  schedulePaused: boolean;
  lastBackup?: Omit<LastBackup, 'snapshotId'>;
  createdAt: string;
}

export function tenantListEntryOf(record: TenantRecord): TenantListEntry {
  const { backupApp, restoreApp, lastBackup } = record;
  return {
    tenantId: record.tenantId,
    organizationId: record.organizationId,
    directory: record.directory,
    displayName: record.displayName,
    plan: record.plan,
    status: record.status,
    reason: record.status === 'active' ? undefined : backupApp.reason,
    storageRegion: record.storage.region,
    backupApp: {
      state: backupApp.state,
      reason: backupApp.reason,
      requestExpiresAt: backupApp.requestExpiresAt,
      grantedAt: backupApp.grantedAt,
    },
    restoreApp: { state: restoreApp.state, reason: restoreApp.reason, mode: restoreApp.mode },
    schedulePaused: record.schedulePaused,
    lastBackup: lastBackup && {
      workflowId: lastBackup.workflowId,
      status: lastBackup.status,
      at: lastBackup.at,
      detail: lastBackup.detail,
      objects: lastBackup.objects,
      skippedTypes: lastBackup.skippedTypes,
    },
    createdAt: record.createdAt,
  };
}

/**
 * The list fields a tenant list filters and searches on, as the tenant workflow's search attributes hold them: name
 * and domain lower-cased (visibility compares Keywords exactly, so a search is a lower-cased prefix), the last
 * backup's result `none` before the first.
 */
export interface TenantListSearchValues {
  plan: Plan;
  lastBackup: 'none' | LastBackup['status'];
  name: string;
  domain: string;
}

export function tenantListSearchValuesOf(
  entry: Pick<TenantListEntry, 'plan' | 'directory' | 'displayName'> & { lastBackup?: Pick<LastBackup, 'status'> },
): TenantListSearchValues {
  return {
    plan: entry.plan,
    lastBackup: entry.lastBackup?.status ?? 'none',
    name: (entry.displayName ?? entry.directory).toLowerCase(),
    domain: entry.directory.toLowerCase(),
  };
}
