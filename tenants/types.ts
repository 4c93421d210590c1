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
  | 'reauthorization-required'
  /**
   * Consent is fine, but every backup for longer than the tenant's threshold (48 h by default) failed for another
   * reason (Graph or storage unreachable): the schedule keeps running, the last backup's failure says why.
   */
  | 'backups-failing';

export type ConsentState =
  | 'not-requested'
  | 'pending'
  | 'granted'
  | 'declined'
  | 'expired'
  | 'revoked'
  /** The admin answered, but the consent could not be checked (e.g. Graph unreachable): ask again. */
  | 'unverified'
  /** Restore app, one-time consent: consumed by a restore (its permissions removed where Graph allowed it). */
  | 'used';

/**
 * Where a tenant's backups go: one of the operator's storage locations (`storageLocationId` when the tenant was
 * added). The bucket and region are copied from the location then, so the repository stays where it was created
 * whatever the configuration later says; the prefix is never stored: the service derives it from the tenant's ids
 * (storage/locations.ts).
 */
export interface LocatedStorage {
  locationId: string;
  bucket: string;
  /** A label shown to the reseller, e.g. "europe-west1". */
  region: string;
  /** Cloud KMS key objects are written with (CMEK), if the location names one. */
  kmsKeyName?: string;
}

/** A tenant added before storage locations existed: the bucket and prefix the reseller typed, read as before. */
export interface LegacyStorage {
  bucket: string;
  prefix: string;
  region: string;
}

/** A tenant record's `storage`; records written before storage locations hold the legacy form. */
export type StorageLocation = LocatedStorage | LegacyStorage;

/** A new tenant's storage in the location the reseller chose (from the operator's configuration). */
export function locatedStorage(location: {
  id: string;
  region: string;
  bucket: string;
  kmsKeyName?: string;
}): LocatedStorage {
  return {
    locationId: location.id,
    bucket: location.bucket,
    region: location.region,
    ...(location.kmsKeyName ? { kmsKeyName: location.kmsKeyName } : {}),
  };
}

export const isLegacyStorage = (storage: StorageLocation): storage is LegacyStorage => !('locationId' in storage);

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

/**
 * A tenant has three ids, each for its own reader:
 * - `tenantId`: ours. Chosen when the reseller adds the tenant; names its workflow (`tenant:{tenantId}`), schedule,
 *   backups and API paths (`/tenants/{tenantId}`). Never changes.
 * - `directory`: what the reseller typed to name the customer's Entra directory, the Microsoft tenant GUID or one of
 *   its verified domains. Graph and the identity platform accept either in a URL, so it is what activities sign in
 *   to and read from (`login.microsoftonline.com/{directory}`).
 * - `microsoftTenantId`: the Microsoft tenant GUID, learned from the verified consent token; a consent callback
 *   that reports another tenant is refused. Shown to operators, who know their customers by it.
 */
export interface TenantRecord {
  /** Ours (see above). */
  tenantId: string;
  resellerId: string;
  organizationId: string;
  /** What the reseller typed: the Microsoft tenant id (GUID) or a verified domain (see above). */
  directory: string;
  /** The Microsoft tenant GUID, known once consent has been verified (see above). */
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
  /** When the first of the backups failing since the last one that worked failed; unset while backups work. */
  backupsFailingSince?: string;
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
  /** Backups failing this long turn the tenant to "Backups failing" (default: tenantTiming.backupsFailingAfterMs). */
  backupsFailingAfterMs?: number;
  /**
   * When a backup that never reports back counts as failed: `everyMs` after the last one the tenant heard of, plus
   * `graceMs` (default: tenantTiming.backupDueEveryMs and backupOverdueGraceMs; tests shorten them).
   */
  backupOverdue?: { everyMs: number; graceMs: number };
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
