/**
 * Every constant workflow code uses: activity timeouts and retry policies, schedule and maintenance intervals, the
 * names of the search attributes, and which failures mean "an admin must consent again".
 *
 * Workflows import this module, never `temporal.config.ts`: workflow code runs in Temporal's deterministic sandbox
 * and is bundled, so whatever it imports must be free of side effects, of Node built-ins and of the environment.
 * This file imports types only. `temporal.config.ts` re-exports it, so that file stays the one place to look for
 * configuration; changing a value here is a new worker build (and, where it changes commands, a `patched()`).
 */

import type { Duration, RetryPolicy } from '@temporalio/common';

export interface ActivityTuning {
  startToCloseTimeout: Duration;
  heartbeatTimeout?: Duration;
  retry: RetryPolicy;
}

/** Names of the custom search attributes every workflow of the product may set; the stack registers them. */
export const searchAttributeNames = {
  tenantId: 'TenantId',
  organizationId: 'OrganizationId',
  resellerId: 'ResellerId',
  jobKind: 'JobKind',
  jobStatus: 'JobStatus',
  // A tenant workflow's list fields (tenants/list-entry.ts), so the tenant list filters and searches in visibility.
  tenantPlan: 'TenantPlan',
  lastBackupResult: 'LastBackupResult',
  tenantName: 'TenantName',
  tenantDomain: 'TenantDomain',
} as const;

/**
 * The failure kinds (ApplicationFailure types) that mean an admin (or the operator, for our own credentials) must
 * act: only these turn a tenant to "Reauthorization required" and pause its schedule. Anything else — Graph 5xx or
 * timeouts, storage down, DNS — fails that one run with its reason and leaves the tenant Active.
 */
export type AuthFailureKind =
  /** The app has no service principal in the tenant: consent was never given or was revoked (AADSTS7000229/700016). */
  | 'ConsentRevoked'
  /** A token was issued but lacks roles the catalog needs, or Graph answered 403 Authorization_RequestDenied. */
  | 'PermissionMissing'
  /** The tenant id or domain does not exist (AADSTS90002). */
  | 'TenantNotFound'
  /** Our own client secret is wrong or expired (AADSTS7000215/7000222): the operator must fix configuration. */
  | 'AppCredentialsInvalid';

export const AUTH_FAILURE_KINDS: readonly AuthFailureKind[] = [
  'ConsentRevoked',
  'PermissionMissing',
  'TenantNotFound',
  'AppCredentialsInvalid',
];

export function isAuthFailureKind(type: string | undefined | null): type is AuthFailureKind {
  return (AUTH_FAILURE_KINDS as readonly string[]).includes(type ?? '');
}

const shortRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
} satisfies RetryPolicy;

export const workflowTuning = {
  /** Short I/O: one storage write, one Graph call, one schedule change. */
  shortActivity: { startToCloseTimeout: '1 minute', retry: shortRetry },
  /**
   * A backup's access check: auth failures are final at once; anything else (an outage) retries about six minutes,
   * then that run fails with its reason and the next scheduled run tries again.
   */
  accessCheck: {
    startToCloseTimeout: '1 minute',
    retry: { ...shortRetry, nonRetryableErrorTypes: [...AUTH_FAILURE_KINDS] },
  },
  /** Verifying a consent the admin just gave: auth failures are final, anything else retries a few times. */
  consentVerification: {
    startToCloseTimeout: '1 minute',
    retry: { ...shortRetry, maximumAttempts: 5, nonRetryableErrorTypes: [...AUTH_FAILURE_KINDS] },
  },
  /** Long reads that page through Graph and heartbeat their position. */
  pagingActivity: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      // Throttling retries come with the server's own delay (nextRetryDelay) and do not use up much of this.
      maximumAttempts: 25,
      nonRetryableErrorTypes: [...AUTH_FAILURE_KINDS, 'InvalidInput'],
    },
  },
  /**
   * Retention: prune waits for running backups of the tenant (their locks) by failing and retrying, up to a day (the
   * activity sets those delays itself, from 30 s up to 30 min). It heartbeats, so a killed worker's run is retried
   * on another within a minute rather than after the start-to-close timeout; the retry takes over its lock.
   */
  retention: {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { ...shortRetry, maximumInterval: '30 minutes', maximumAttempts: 60 },
  },
} satisfies Record<string, ActivityTuning>;

/** The daily backup schedule every active tenant has (activities/schedules.ts creates it). */
export const backupSchedule = {
  every: '24 hours',
  /** A run missed while the cluster was down is still taken if the cluster is back within this. */
  catchupWindow: '1 hour',
} as const satisfies Record<string, Duration>;

export const tenantTiming = {
  /**
   * A tenant whose backups have all failed (not for lack of consent) for longer than this shows "Backups failing".
   * The API passes BACKUPS_FAILING_AFTER_HOURS into each new tenant's input; this is the default.
   */
  backupsFailingAfterMs: 48 * 3_600_000,
  /** The daily schedule's interval (`backupSchedule.every`) in ms: a backup is due at most this long after the last. */
  backupDueEveryMs: 24 * 3_600_000,
  /**
   * A backup that was due and has not reported back this long after (stuck, never started, a worker fleet down) counts
   * as failed from when it was due: the tenant's own timer looks, since no backup's end will tell it. Generous: a large
   * tenant's backup takes hours, and the schedule's runs drift by its catch-up window.
   */
  backupOverdueGraceMs: 12 * 3_600_000,
};

export const restoreTiming = {
  /** How often a restore waiting for a one-time Restore consent asks the tenant whether an admin gave it. */
  consentPoll: '5 seconds',
} as const satisfies Record<string, Duration>;

export const retentionTiming = {
  /**
   * Even when nothing expired (always so on Archiver), a prune runs this often to remove what crashed backups
   * left behind (unindexed packs, stale pending markers, checkpoint files), sparing what is younger than the
   * prune's grace period (24 h).
   */
  pruneEveryMs: 7 * 86_400_000,
};
