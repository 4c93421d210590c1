/**
 * The tenant record and its life cycle. Pure types and constants: the tenant workflow imports them, so nothing here
 * may touch Node built-ins.
 */

export const PLANS = ['backup', 'archiver'] as const;
export type Plan = (typeof PLANS)[number];

export type EntraApp = 'backup' | 'restore';

/** What the dashboard shows for a tenant. */
export type TenantStatus =
  /** Added; the Backup app's admin consent has not been given yet. */
  | 'awaiting-consent'
  /** Consent verified; the daily schedule runs. */
  | 'active'
  /** Consent was revoked or permissions are missing: schedule paused until an admin consents again. */
  | 'reauthorization-required';

export type ConsentState =
  | 'not-requested'
  | 'pending'
  | 'granted'
  | 'declined'
  | 'expired'
  | 'revoked'
  /** Restore app, one-time consent: consumed by a restore (its permissions removed where Graph allowed it). */
  | 'used';

export interface StorageLocation {
  bucket: string;
  prefix: string;
  /** A label shown to the reseller, e.g. "europe-west1". */
  region: string;
}

export interface AppConsent {
  state: ConsentState;
  /** Why consent is not usable (declined, revoked, missing permissions). */
  reason?: string;
  grantedAt?: string;
  /** Application permissions the verified token carried. */
  grantedRoles?: string[];
  /** Permissions the catalog needs that the token lacked. */
  missingRoles?: string[];
  /** When a requested consent expires unanswered. */
  requestExpiresAt?: string;
}

export type RestoreConsentMode = 'none' | 'permanent' | 'one-time';

export interface LastBackup {
  workflowId: string;
  /** incomplete: a snapshot was written, but some types were skipped (its coverage report says which and why). */
  status: 'running' | 'completed' | 'failed' | 'incomplete';
  at: string;
  detail?: string;
  snapshotId?: string;
  objects?: number;
  skippedTypes?: string[];
}

export interface TenantRecord {
  tenantId: string;
  resellerId: string;
  organizationId: string;
  /** What the reseller typed: the Microsoft tenant id (GUID) or a verified domain. */
  directory: string;
  /** The Microsoft tenant GUID, known once consent has been verified. */
  microsoftTenantId?: string;
  displayName?: string;
  storage: StorageLocation;
  plan: Plan;
  backupImmediately: boolean;
  status: TenantStatus;
  backupApp: AppConsent;
  restoreApp: AppConsent & { mode: RestoreConsentMode };
  scheduleId?: string;
  schedulePaused: boolean;
  lastBackup?: LastBackup;
  createdAt: string;
}

export interface NewTenantInput {
  tenantId: string;
  resellerId: string;
  organizationId: string;
  directory: string;
  storage: StorageLocation;
  plan: Plan;
  backupImmediately: boolean;
  /** Recorded in history so the workflow's timer is deterministic whatever the worker's environment says. */
  consentTimeoutMs: number;
  createdAt: string;
}

/** What a backup run needs to know of its tenant: ids and where its backups go, never credentials. */
export interface BackupTarget {
  tenantId: string;
  resellerId: string;
  organizationId: string;
  directory: string;
  storage: StorageLocation;
}

export const tenantWorkflowId = (tenantId: string) => `tenant:${tenantId}`;
export const backupScheduleId = (tenantId: string) => `tenant-backup:${tenantId}`;
export const backupWorkflowIdPrefix = (tenantId: string) => `backup:${tenantId}`;

/** A GUID as Microsoft writes tenant ids. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A DNS name with at least two labels, as verified domains are. */
export const DOMAIN_PATTERN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
