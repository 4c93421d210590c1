import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowTuning } from '../temporal.config';
import { jobStatusKey } from '../temporal/search-attributes';
import { PLANS, backupScheduleId, type EntraApp, type NewTenantInput, type TenantRecord } from '../tenants/types';
import {
  authFailedSignal,
  backupFinishedSignal,
  permissionsMissingSignal,
  backupNowUpdate,
  changePlanUpdate,
  consentCallbackUpdate,
  requestConsentUpdate,
  tenantQuery,
  type AuthFailureReport,
  type ConsentCallback,
  type ConsentRequest,
} from './tenant-messages';
import { tenantListMemo } from './tenant-list-memo';

const { prepareConsentRequest, ensureBackupSchedule, setBackupSchedulePaused, triggerBackup } =
  proxyActivities<Activities>({
    startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
    retry: workflowTuning.shortActivity.retry,
  });

// Verification talks to the customer's tenant: auth failures are final, anything else retries a few times.
const { verifyConsent } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.shortActivity.startToCloseTimeout,
  retry: { ...workflowTuning.shortActivity.retry, maximumAttempts: 5 },
});

interface PendingConsent {
  app: EntraApp;
  nonce: string;
  expiresAt: number;
  mode?: ConsentRequest['mode'];
}

/** Carried across continue-as-new: the whole state of one tenant. */
export interface TenantWorkflowInput {
  tenant: NewTenantInput;
  carried?: { record: TenantRecord; pending: PendingConsent[]; firstBackupTriggered: boolean };
}

/**
 * One long-lived workflow per customer tenant: its record (plan, storage, consent of both apps, last backup) lives
 * in this workflow's state, read through a query and changed through updates, so every API and worker replica
 * shares it without a database. Consent requests wait here for Microsoft's callback, expiring after a timeout.
 */
export async function tenantWorkflow(input: TenantWorkflowInput): Promise<void> {
  const t = input.tenant;
  const record: TenantRecord = input.carried?.record ?? {
    tenantId: t.tenantId,
    resellerId: t.resellerId,
    organizationId: t.organizationId,
    directory: t.directory,
    storage: t.storage,
    plan: t.plan,
    backupImmediately: t.backupImmediately,
    status: 'awaiting-consent',
    backupApp: { state: 'not-requested' },
    restoreApp: { state: 'not-requested', mode: 'none' },
    schedulePaused: false,
    createdAt: t.createdAt,
  };
  let pending: PendingConsent[] = input.carried?.pending ?? [];
  let firstBackupTriggered = input.carried?.firstBackupTriggered ?? false;
  const callbacks: (ConsentCallback & { mode?: ConsentRequest['mode'] })[] = [];
  const authFailures: AuthFailureReport[] = [];

  setHandler(tenantQuery, () => record);

  setHandler(
    changePlanUpdate,
    ({ plan }) => {
      record.plan = plan;
      return record;
    },
    {
      validator: ({ plan }) => {
        if (!PLANS.includes(plan))
          throw ApplicationFailure.create({ type: 'InvalidInput', message: `unknown plan '${plan}'` });
        if (record.plan === 'archiver' && plan !== 'archiver') {
          throw ApplicationFailure.create({
            type: 'PlanDowngradeRefused',
            message: 'the Archiver plan can never be downgraded: archived history must stay kept',
          });
        }
      },
    },
  );

  setHandler(
    requestConsentUpdate,
    async ({ app, mode }) => {
      const nonce = uuid4();
      const expiresAt = Date.now() + t.consentTimeoutMs;
      const { consentUrl } = await prepareConsentRequest({
        tenantId: t.tenantId,
        directory: t.directory,
        app,
        nonce,
        expiresAt,
      });
      // A new request replaces an open one for the same app: only the newest link works.
      pending = [...pending.filter((p) => p.app !== app), { app, nonce, expiresAt, mode }];
      const consent = app === 'backup' ? record.backupApp : record.restoreApp;
      consent.state = 'pending';
      consent.requestExpiresAt = new Date(expiresAt).toISOString();
      return { consentUrl, expiresAt: consent.requestExpiresAt };
    },
    {
      validator: ({ app, mode }) => {
        if (app !== 'backup' && app !== 'restore') {
          throw ApplicationFailure.create({ type: 'InvalidInput', message: `unknown app '${app}'` });
        }
        if (app === 'restore' && mode !== 'permanent' && mode !== 'one-time') {
          throw ApplicationFailure.create({
            type: 'InvalidInput',
            message: "the Restore app needs mode 'permanent' or 'one-time'",
          });
        }
      },
    },
  );

  setHandler(
    consentCallbackUpdate,
    (callback) => {
      // Single use: the request is gone once its answer arrived.
      const answered = pending.find((p) => p.nonce === callback.nonce);
      pending = pending.filter((p) => p.nonce !== callback.nonce);
      callbacks.push({ ...callback, mode: answered?.mode });
      return { accepted: true };
    },
    {
      validator: (callback) => {
        const open = pending.find((p) => p.nonce === callback.nonce && p.app === callback.app);
        if (!open || open.expiresAt < Date.now()) {
          throw ApplicationFailure.create({
            type: 'ConsentStateRejected',
            message: 'this consent request is unknown, already answered or expired',
          });
        }
      },
    },
  );

  setHandler(
    backupNowUpdate,
    async () => {
      firstBackupTriggered = true;
      return await triggerBackup({ tenantId: t.tenantId });
    },
    {
      validator: () => {
        if (record.status !== 'active') {
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

  setHandler(authFailedSignal, (report) => void authFailures.push(report));
  setHandler(backupFinishedSignal, (last) => {
    record.lastBackup = last;
  });
  setHandler(permissionsMissingSignal, ({ missingRoles }) => {
    // Not paused: what the app may read is still backed up; the snapshot's coverage report names what is not.
    record.backupApp.missingRoles = missingRoles;
    record.backupApp.reason = `consent lacks ${missingRoles.join(', ')}: partial backups until an admin consents again`;
    if (record.status === 'active') record.status = 'reauthorization-required';
  });

  let shownStatus = '';
  const publishStatus = () => {
    if (shownStatus === record.status) return;
    shownStatus = record.status;
    upsertSearchAttributes([{ key: jobStatusKey, value: record.status }]);
  };
  publishStatus();
  const listMemo = tenantListMemo();
  listMemo.publish(record);

  for (;;) {
    const earliestExpiry = () => (pending.length ? Math.min(...pending.map((p) => p.expiresAt)) : undefined);
    const nextExpiry = earliestExpiry();
    // A new consent request changes the next expiry: wake up to re-arm the timer for it.
    const woken = () =>
      callbacks.length > 0 ||
      authFailures.length > 0 ||
      earliestExpiry() !== nextExpiry ||
      listMemo.stale(record) ||
      workflowInfo().continueAsNewSuggested;
    if (nextExpiry === undefined) await condition(woken);
    else await condition(woken, Math.max(nextExpiry - Date.now(), 1));

    for (const p of pending.filter((p) => p.expiresAt <= Date.now())) {
      const consent = p.app === 'backup' ? record.backupApp : record.restoreApp;
      if (consent.state === 'pending') {
        consent.state = 'expired';
        consent.reason = 'no answer from an admin before the consent request expired';
      }
    }
    pending = pending.filter((p) => p.expiresAt > Date.now());

    while (callbacks.length > 0) await handleCallback(callbacks.shift()!);
    while (authFailures.length > 0) await handleAuthFailure(authFailures.shift()!);
    publishStatus();
    listMemo.publish(record);

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof tenantWorkflow>({ tenant: t, carried: { record, pending, firstBackupTriggered } });
    }
  }

  async function handleCallback(callback: ConsentCallback & { mode?: ConsentRequest['mode'] }): Promise<void> {
    const consent = callback.app === 'backup' ? record.backupApp : record.restoreApp;
    consent.requestExpiresAt = undefined;
    if (callback.outcome === 'declined') {
      consent.state = 'declined';
      consent.reason = callback.error ?? 'the admin declined';
      return;
    }
    let verification;
    try {
      verification = await verifyConsent({ directory: t.directory, app: callback.app });
    } catch (err) {
      const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
      consent.state = 'revoked';
      consent.reason = failure?.message ?? 'the consent could not be verified';
      if (callback.app === 'backup') await requireReauthorization(consent.reason);
      return;
    }
    if (
      callback.reportedTenantId &&
      verification.microsoftTenantId &&
      callback.reportedTenantId !== verification.microsoftTenantId
    ) {
      consent.state = 'declined';
      consent.reason = 'the consent came back for a different Microsoft tenant than this one';
      return;
    }
    record.microsoftTenantId = verification.microsoftTenantId ?? record.microsoftTenantId;
    record.displayName = verification.displayName ?? record.displayName;
    consent.grantedRoles = verification.grantedRoles;
    consent.missingRoles = verification.missingRoles;
    if (verification.missingRoles.length > 0) {
      consent.state = 'revoked';
      consent.reason = `consent lacks ${verification.missingRoles.join(', ')}`;
      if (callback.app === 'backup') await requireReauthorization(consent.reason);
      return;
    }
    consent.state = 'granted';
    consent.reason = undefined;
    consent.grantedAt = new Date().toISOString();
    if (callback.app === 'restore') {
      record.restoreApp.mode = callback.mode ?? 'permanent';
      return;
    }
    await activate();
  }

  async function activate(): Promise<void> {
    await ensureBackupSchedule({
      tenantId: t.tenantId,
      resellerId: t.resellerId,
      organizationId: t.organizationId,
      directory: t.directory,
      storage: t.storage,
    });
    record.scheduleId = backupScheduleId(t.tenantId);
    if (record.schedulePaused) {
      await setBackupSchedulePaused({ tenantId: t.tenantId, paused: false, note: 'consent granted again' });
      record.schedulePaused = false;
    }
    record.status = 'active';
    if (t.backupImmediately && !firstBackupTriggered) {
      firstBackupTriggered = true;
      const started = await triggerBackup({ tenantId: t.tenantId });
      record.lastBackup = { workflowId: started.workflowId, status: 'running', at: new Date().toISOString() };
    }
  }

  async function handleAuthFailure(report: AuthFailureReport): Promise<void> {
    record.backupApp.state = 'revoked';
    record.backupApp.reason = report.reason;
    await requireReauthorization(report.reason);
  }

  async function requireReauthorization(reason: string): Promise<void> {
    // A tenant never activated is still simply waiting for a (working) consent.
    if (record.status !== 'awaiting-consent') record.status = 'reauthorization-required';
    if (record.scheduleId && !record.schedulePaused) {
      // Paused, not failing every day: nothing can succeed until an admin consents again.
      await setBackupSchedulePaused({
        tenantId: t.tenantId,
        paused: true,
        note: `reauthorization required: ${reason}`,
      });
      record.schedulePaused = true;
    }
  }
}
