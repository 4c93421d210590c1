import {
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { jobStatusKey } from '../temporal/search-attributes';
import type { NewTenantInput, TenantRecord } from '../tenants/types';
import { nextBackupCheck, noteOverdueBackups, registerActiveHandlers } from './tenant-phases/active';
import {
  expireConsentRequests,
  handleConsentAnswer,
  nextConsentExpiry,
  registerConsentHandlers,
} from './tenant-phases/consent';
import { newTenantState, registerRecordHandlers } from './tenant-phases/onboarding';
import { handleAuthFailure, registerReauthorizationHandlers } from './tenant-phases/reauthorization';
import { TENANT_PATCH, type PendingConsent, type TenantState } from './tenant-phases/state';
import { tenantListMemo } from './tenant-list-memo';

/** Carried across continue-as-new: the whole state of one tenant. */
export interface TenantWorkflowInput {
  tenant: NewTenantInput;
  carried?: { record: TenantRecord; pending: PendingConsent[]; firstBackupTriggered: boolean };
}

/**
 * One long-lived workflow per customer tenant: its record (plan, storage, consent of both apps, last backup) lives
 * in this workflow's state, read through a query and changed through updates, so every API and worker replica
 * shares it without a database. Its life reads as phases, one file each in tenant-phases/:
 * onboarding (the record, the plan) → consent (requests wait here for Microsoft's callback, expiring after a
 * timeout) → active (the daily schedule, Backup now, how each backup ended) → reauthorization (a backup found the
 * consent gone: schedule paused until an admin consents again, which leads back to active).
 */
export async function tenantWorkflow(input: TenantWorkflowInput): Promise<void> {
  const state = newTenantState(input);
  registerRecordHandlers(state);
  registerConsentHandlers(state);
  registerActiveHandlers(state);
  registerReauthorizationHandlers(state);

  let shownStatus = '';
  const publishStatus = () => {
    if (shownStatus === state.record.status) return;
    shownStatus = state.record.status;
    upsertSearchAttributes([{ key: jobStatusKey, value: state.record.status }]);
  };
  publishStatus();
  const listMemo = tenantListMemo();
  listMemo.publish(state.record);

  try {
    for (;;) {
      await nextEvent(state, () => listMemo.stale(state.record));
      state.statusChanged = false;
      expireConsentRequests(state);
      while (state.callbacks.length > 0) await handleConsentAnswer(state, state.callbacks.shift()!);
      while (state.authFailures.length > 0) await handleAuthFailure(state, state.authFailures.shift()!);
      if (patched(TENANT_PATCH.overdueBackupCheck)) noteOverdueBackups(state);
      publishStatus();
      listMemo.publish(state.record);

      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        const { record, pending, firstBackupTriggered } = state;
        await continueAsNew<typeof tenantWorkflow>({
          tenant: state.tenant,
          carried: { record, pending, firstBackupTriggered },
        });
      }
    }
  } catch (err) {
    // Only cancellation or termination ends a tenant; System Status must not show it as still going.
    if (!(err instanceof ContinueAsNew) && patched(TENANT_PATCH.finalStatusOnEveryPath)) {
      const cancelled = isCancellation(err);
      upsertMemo({ reason: cancelled ? 'the tenant workflow was cancelled' : String(err) });
      upsertSearchAttributes([{ key: jobStatusKey, value: cancelled ? 'cancelled' : 'failed' }]);
    }
    throw err;
  }
}

/**
 * Waits for something to do: a consent answer, an auth failure, an expiring request, backups overdue, or time to
 * continue as new.
 */
async function nextEvent(state: TenantState, listEntryStale: () => boolean): Promise<void> {
  const nextExpiry = nextConsentExpiry(state);
  // Tenants started before this version wait without the backup check's timer while their history replays.
  const watchBackups = patched(TENANT_PATCH.overdueBackupCheck);
  const backupCheck = watchBackups ? nextBackupCheck(state) : undefined;
  // A new consent request changes the next expiry, a backup's report the next check: wake up to re-arm the timer.
  const woken = () =>
    state.callbacks.length > 0 ||
    state.authFailures.length > 0 ||
    state.statusChanged ||
    listEntryStale() ||
    nextConsentExpiry(state) !== nextExpiry ||
    (watchBackups && nextBackupCheck(state) !== backupCheck) ||
    workflowInfo().continueAsNewSuggested;
  const wakeAt = [nextExpiry, backupCheck].filter((t) => t !== undefined);
  if (wakeAt.length === 0) await condition(woken);
  else await condition(woken, Math.max(Math.min(...wakeAt) - Date.now(), 1));
}
