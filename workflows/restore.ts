import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { recordJobDuration } from './job-metrics';
import type { Activities } from '../activities';
import { restoreTiming, workflowTuning } from '../workflow-constants';
import { jobStatusKey } from '../temporal/search-attributes';
import type { StorageLocation } from '../tenants/types';
import { APPLY_ORDER, type RestoreRequest, type RestoreState, type RestoreStatus } from '../restore/types';
import {
  cancelRestoreUpdate,
  confirmRestoreUpdate,
  restoreStateQuery,
  type RestoreCancellation,
  type RestoreConfirmation,
} from './restore-messages';

const { restoreConsentOf, requestOneTimeRestoreConsent, markRestoreConsentUsed, revokeRestoreAppRoles } =
  proxyActivities<Activities>({
    startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
    retry: workflowTuning.shortActivity.retry,
  });

// Planning, applying and verifying page through Graph under its throttling: long, heartbeating, resumable.
const { planRestore, applyRestoreStage, verifyRestore } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.pagingActivity.startToCloseTimeout,
  heartbeatTimeout: workflowTuning.pagingActivity.heartbeatTimeout,
  retry: {
    ...workflowTuning.pagingActivity.retry,
    nonRetryableErrorTypes: ['UnknownObject', 'PlanMissing', 'PlanChanged', 'ConsentRevoked', 'PermissionMissing'],
  },
});

/** Versions of this workflow's commands (Temporal `patched()`), as in tenant-backup.ts. */
const PATCH = {
  /** A cancelled restore ends as cancelled, saying how far it got, not as failed. */
  cancelledIsNotFailed: 'restore-cancelled-is-not-failed',
  /**
   * The directory role stage (role assignments, AU scoped role members) runs when the plan counts any (plans made
   * before never do).
   */
  roleAssignments: 'restore-role-assignments',
} as const;

export interface RestoreWorkflowInput extends Omit<RestoreRequest, 'restoreId'> {
  storage: StorageLocation;
  startedAt: string;
}

/**
 * One object-level restore: Restore app consent (permanent, or one-time requested here), a plan computed against the
 * live tenant and stored in the tenant's bucket, an explicit confirmation naming the plan's hash, then the writes in
 * dependency order and a read-back report. Nothing is written to the tenant before the confirmation. The plan and
 * report stay in the bucket; this history carries only their keys, hash and counts.
 */
export async function restoreWorkflow(input: RestoreWorkflowInput): Promise<RestoreState> {
  const restoreId = workflowInfo().firstExecutionRunId;
  const state: RestoreState = {
    restoreId,
    tenantId: input.tenantId,
    snapshotId: input.snapshotId,
    status: 'planning',
    consent: { mode: 'permanent', state: 'pending' },
    requestedBy: input.requestedBy,
    startedAt: input.startedAt,
  };
  let confirmation: RestoreConfirmation | undefined;
  let cancellation: RestoreCancellation | undefined;
  setHandler(restoreStateQuery, () => state);
  setHandler(
    confirmRestoreUpdate,
    (c) => {
      confirmation = c;
      state.confirmedBy = c.confirmedBy;
      state.confirmedAt = new Date().toISOString();
      return state;
    },
    {
      validator: (c) => {
        if (state.status !== 'awaiting-confirmation' || !state.plan) {
          throw ApplicationFailure.create({
            type: 'NotAwaitingConfirmation',
            message: `this restore is ${state.status}, not waiting for a confirmation`,
          });
        }
        if (c.planHash !== state.plan.hash) {
          throw ApplicationFailure.create({
            type: 'StalePlanHash',
            message: `the confirmation names plan ${c.planHash}, but the plan to confirm is ${state.plan.hash}`,
          });
        }
      },
    },
  );
  const setStatus = (status: RestoreStatus, detail?: string) => {
    state.status = status;
    state.detail = detail;
    upsertSearchAttributes([{ key: jobStatusKey, value: status }]);
  };
  setHandler(
    cancelRestoreUpdate,
    (c) => {
      // A second cancel (a retried request) answers the same state: the update is idempotent.
      if (cancellation) return state;
      cancellation = c;
      state.cancelledBy = c.cancelledBy;
      state.cancelledAt = new Date().toISOString();
      setStatus('cancelled', 'the plan was cancelled instead of confirmed; nothing was written');
      return state;
    },
    {
      validator: (_c: RestoreCancellation) => {
        if (confirmation || (state.status !== 'awaiting-confirmation' && state.status !== 'cancelled')) {
          throw ApplicationFailure.create({
            type: 'NotAwaitingConfirmation',
            message: `this restore is ${confirmation ? 'confirmed' : state.status}: only a plan waiting for its confirmation can be cancelled`,
          });
        }
      },
    },
  );
  setStatus('planning');
  const ref = {
    restoreId,
    tenantId: input.tenantId,
    resellerId: input.resellerId,
    directory: input.directory,
    storage: input.storage,
  };
  let oneTime = false;
  try {
    if (!(await obtainConsent())) return finish();
    oneTime = state.consent.mode === 'one-time';

    setStatus('planning');
    const plan = await planRestore({
      ...ref,
      tenantId: input.tenantId,
      snapshotId: input.snapshotId,
      objects: input.objects,
      conditionalAccessState: input.conditionalAccessState,
      createdAt: input.startedAt,
    });
    state.plan = { ...plan, expiresAt: new Date(Date.now() + input.confirmationTimeoutMs).toISOString() };
    setStatus('awaiting-confirmation');
    // A cancellation only ever arrives here (its validator refuses any other status), so older histories replay as
    // they ran: the wait's commands are the same, only what ends it is new.
    if (
      !(await condition(() => confirmation !== undefined || cancellation !== undefined, input.confirmationTimeoutMs))
    ) {
      await releaseConsent();
      setStatus('expired', 'the plan was not confirmed in time; nothing was written');
      return finish();
    }
    if (cancellation) {
      await releaseConsent();
      return finish();
    }

    setStatus('applying');
    for (const types of APPLY_ORDER) {
      const parts =
        (types.includes('memberships') && (plan.counts.memberships ?? 0) > 0) ||
        (types.includes('appRoleAssignments') && (plan.counts.appRoleAssignments ?? 0) > 0) ||
        (types.includes('oauth2PermissionGrants') && (plan.counts.oauth2PermissionGrants ?? 0) > 0) ||
        (types.includes('roleAssignments') &&
          (plan.counts.roleAssignments ?? 0) + (plan.counts.scopedRoleMembers ?? 0) > 0 &&
          patched(PATCH.roleAssignments));
      if (
        !parts &&
        !types.some((t) => input.objects.some((o) => o.type === t)) &&
        !types.includes('conditionalAccessPolicies')
      )
        continue;
      await applyRestoreStage({ ...ref, planHash: plan.hash, types });
    }
    setStatus('verifying');
    const report = await verifyRestore(ref);
    state.report = report;
    await releaseConsent();
    const clean = report.partlyRestored === 0 && report.failed === 0;
    setStatus(
      clean ? 'completed' : report.restored + report.partlyRestored > 0 ? 'partly-completed' : 'failed',
      clean ? undefined : `${report.partlyRestored} partly restored, ${report.failed} failed: see the report`,
    );
    return finish();
  } catch (err) {
    // Even when the restore failed or was cancelled: a one-time consent is never left behind.
    await releaseConsent();
    if (isCancellation(err) && patched(PATCH.cancelledIsNotFailed)) {
      // Cancelled through Temporal (an operator, or a terminated parent): a true final state, and what it means.
      const written = state.status === 'applying' || state.status === 'verifying';
      setStatus(
        'cancelled',
        `the restore was cancelled while ${state.status}: ${written ? 'what was written before stays written (see the plan)' : 'nothing was written'}`,
      );
      finish();
      throw err;
    }
    setStatus('failed', err instanceof Error ? err.message : String(err));
    recordJobDuration('restore', 'failed');
    throw err;
  }

  /** Ends a one-time consent: the Restore app's permissions removed where Graph allows, the consent shown as used. */
  async function releaseConsent(): Promise<void> {
    if (!oneTime || state.revocation) return;
    await CancellationScope.nonCancellable(async () => {
      const revocation = await revokeRestoreAppRoles({ directory: input.directory });
      state.revocation = revocation;
      await markRestoreConsentUsed({
        tenantId: input.tenantId,
        restoreId,
        note: revocation.manual
          ? `Graph refused to remove its permissions: ${revocation.manual}`
          : `${revocation.removed} application permission(s) removed`,
      });
      state.consent.state = revocation.manual ? 'used' : 'revoked';
    });
  }

  function finish(): RestoreState {
    state.finishedAt = new Date().toISOString();
    recordJobDuration('restore', state.status);
    return state;
  }

  /** Permanent consent is used as is; otherwise a one-time consent is requested and waited for. */
  async function obtainConsent(): Promise<boolean> {
    let consent = await restoreConsentOf({ tenantId: input.tenantId });
    if (consent.state === 'granted') {
      state.consent = { mode: consent.mode === 'one-time' ? 'one-time' : 'permanent', state: 'granted' };
      return true;
    }
    const request = await requestOneTimeRestoreConsent({ tenantId: input.tenantId });
    state.consent = { mode: 'one-time', state: 'pending', consentUrl: request.consentUrl };
    setStatus('awaiting-consent', 'an admin must grant the Restore app one-time consent: open consentUrl');
    const deadline = Date.now() + input.consentTimeoutMs;
    while (Date.now() < deadline) {
      await sleep(restoreTiming.consentPoll);
      consent = await restoreConsentOf({ tenantId: input.tenantId });
      if (consent.state === 'granted') {
        state.consent.state = 'granted';
        return true;
      }
      if (consent.state === 'declined' || consent.state === 'expired' || consent.state === 'revoked') break;
    }
    setStatus(
      'refused',
      `the Restore app has no consent in this tenant (${consent.state}${consent.reason ? `: ${consent.reason}` : ''}); nothing was changed`,
    );
    return false;
  }
}
