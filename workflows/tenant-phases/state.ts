import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { workflowTuning } from '../../workflow-constants';
import type { EntraApp, NewTenantInput, TenantRecord } from '../../tenants/types';
import type { AuthFailureReport, ConsentCallback, ConsentRequest } from '../tenant-messages';

/** An open admin-consent request, waiting for Microsoft's redirect until it expires. */
export interface PendingConsent {
  app: EntraApp;
  nonce: string;
  expiresAt: number;
  mode?: ConsentRequest['mode'];
}

/** The whole state of one tenant's workflow, shared by its phases (and carried across continue-as-new). */
export interface TenantState {
  /** The input the tenant was created with. */
  readonly tenant: NewTenantInput;
  record: TenantRecord;
  pending: PendingConsent[];
  firstBackupTriggered: boolean;
  /** Consent answers and auth failures arrive in handlers and are dealt with in the workflow's loop, in order. */
  callbacks: (ConsentCallback & { mode?: ConsentRequest['mode'] })[];
  authFailures: AuthFailureReport[];
  /** A handler changed the status: the loop wakes to publish it. */
  statusChanged: boolean;
}

/**
 * Versions of the tenant workflow's commands (Temporal `patched()`): tenants are long-lived, so every change in
 * what it does must let a new worker replay histories an older one wrote.
 */
export const TENANT_PATCH = {
  /** Only the auth failure kinds require reauthorization; other failures leave the tenant Active. */
  authFailureKindsOnly: 'auth-failure-kinds-only',
  /** The workflow ends (failed, cancelled) with a final JobStatus and the reason in its memo. */
  finalStatusOnEveryPath: 'final-status-on-every-path',
  /** A timer notices backups that stopped reporting back at all (stuck, never started): they count as failing. */
  overdueBackupCheck: 'overdue-backup-check',
} as const;

export const tenantActivities = proxyActivities<Activities>(workflowTuning.shortActivity);
/** Verification talks to the customer's tenant: auth failures are final, anything else retries a few times. */
export const { verifyConsent } = proxyActivities<Activities>(workflowTuning.consentVerification);
