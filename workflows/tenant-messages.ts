import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EntraApp, LastBackup, Plan, RestoreConsentMode, TenantRecord } from '../tenants/types';

// The tenant workflow's messages, shared by the workflow, the API and the backup workflow.

export const tenantQuery = defineQuery<TenantRecord>('tenant');

export const changePlanUpdate = defineUpdate<TenantRecord, [{ plan: Plan }]>('changePlan');

export interface ConsentRequest {
  app: EntraApp;
  /** Restore app only: keep the consent, or use it for one restore. */
  mode?: Exclude<RestoreConsentMode, 'none'>;
}
export const requestConsentUpdate = defineUpdate<{ consentUrl: string; expiresAt: string }, [ConsentRequest]>(
  'requestConsent',
);

/** What Microsoft's redirect said, after the API verified the signed state. */
export interface ConsentCallback {
  app: EntraApp;
  nonce: string;
  outcome: 'granted' | 'declined';
  /** `tenant` from the redirect (success only); compared with what our own token says, never trusted alone. */
  reportedTenantId?: string;
  error?: string;
}
export const consentCallbackUpdate = defineUpdate<{ accepted: true }, [ConsentCallback]>('consentCallback');

export const backupNowUpdate = defineUpdate<{ workflowId: string; alreadyRunning: boolean }>('backupNow');

export interface AuthFailureReport {
  kind: string;
  reason: string;
  backupWorkflowId: string;
}
export const authFailedSignal = defineSignal<[AuthFailureReport]>('authFailed');
export const backupFinishedSignal = defineSignal<[LastBackup]>('backupFinished');

/** The Backup app can read the tenant but lacks some permissions: backups go on, partial, until an admin consents. */
export const permissionsMissingSignal =
  defineSignal<[{ missingRoles: string[]; backupWorkflowId: string }]>('permissionsMissing');

/** A restore used the one-time Restore consent (and removed the app's permissions where Graph allowed it). */
export const restoreConsentUsedUpdate = defineUpdate<TenantRecord, [{ restoreId: string; note: string }]>(
  'restoreConsentUsed',
);
