import { ActivityFailure, ApplicationFailure, patched, setHandler, uuid4 } from '@temporalio/workflow';
import { isAuthFailureKind } from '../../workflow-constants';
import {
  consentCallbackUpdate,
  requestConsentUpdate,
  restoreConsentUsedUpdate,
  type ConsentCallback,
  type ConsentRequest,
} from '../tenant-messages';
import { activate } from './active';
import { requireReauthorization } from './reauthorization';
import { TENANT_PATCH, tenantActivities, verifyConsent, type TenantState } from './state';

/** Consent: a request opens a link for an admin; Microsoft's redirect answers it (once) before it expires. */
export function registerConsentHandlers(state: TenantState): void {
  const t = state.tenant;
  setHandler(
    requestConsentUpdate,
    async ({ app, mode }) => {
      const nonce = uuid4();
      const expiresAt = Date.now() + t.consentTimeoutMs;
      const { consentUrl } = await tenantActivities.prepareConsentRequest({
        tenantId: t.tenantId,
        directory: t.directory,
        app,
        nonce,
        expiresAt,
      });
      // A new request replaces an open one for the same app: only the newest link works.
      state.pending = [...state.pending.filter((p) => p.app !== app), { app, nonce, expiresAt, mode }];
      const consent = app === 'backup' ? state.record.backupApp : state.record.restoreApp;
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
      const answered = state.pending.find((p) => p.nonce === callback.nonce);
      state.pending = state.pending.filter((p) => p.nonce !== callback.nonce);
      state.callbacks.push({ ...callback, mode: answered?.mode });
      return { accepted: true };
    },
    {
      validator: (callback) => {
        const open = state.pending.find((p) => p.nonce === callback.nonce && p.app === callback.app);
        if (!open || open.expiresAt < Date.now()) {
          throw ApplicationFailure.create({
            type: 'ConsentStateRejected',
            message: 'this consent request is unknown, already answered or expired',
          });
        }
      },
    },
  );

  // Restore: a one-time Restore consent serves one restore only; afterwards it shows as used.
  setHandler(restoreConsentUsedUpdate, ({ restoreId, note }) => {
    const restore = state.record.restoreApp;
    if (restore.mode === 'one-time' && restore.state === 'granted') {
      restore.state = 'used';
      restore.mode = 'none';
      restore.reason = `used by restore ${restoreId}: ${note}`;
    }
    return state.record;
  });
}

/** When the next open request expires, if any. */
export function nextConsentExpiry(state: TenantState): number | undefined {
  return state.pending.length ? Math.min(...state.pending.map((p) => p.expiresAt)) : undefined;
}

/** Requests nobody answered in time: their consent shows expired, their links stop working. */
export function expireConsentRequests(state: TenantState): void {
  for (const p of state.pending.filter((p) => p.expiresAt <= Date.now())) {
    const consent = p.app === 'backup' ? state.record.backupApp : state.record.restoreApp;
    if (consent.state === 'pending') {
      consent.state = 'expired';
      consent.reason = 'no answer from an admin before the consent request expired';
    }
  }
  state.pending = state.pending.filter((p) => p.expiresAt > Date.now());
}

/** An admin answered: declined, or granted and then verified with a token of our own before the tenant is active. */
export async function handleConsentAnswer(
  state: TenantState,
  callback: ConsentCallback & { mode?: ConsentRequest['mode'] },
): Promise<void> {
  const { record } = state;
  const consent = callback.app === 'backup' ? record.backupApp : record.restoreApp;
  consent.requestExpiresAt = undefined;
  if (callback.outcome === 'declined') {
    consent.state = 'declined';
    consent.reason = callback.error ?? 'the admin declined';
    return;
  }
  let verification;
  try {
    verification = await verifyConsent({ directory: state.tenant.directory, app: callback.app });
  } catch (err) {
    const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    // Graph unreachable is no verdict on the consent: nothing changes but this answer, which needs asking again.
    if (!isAuthFailureKind(failure?.type) && patched(TENANT_PATCH.authFailureKindsOnly)) {
      consent.state = 'unverified';
      consent.reason = `the consent could not be verified (${failure?.message ?? 'no answer'}): ask again`;
      return;
    }
    consent.state = 'revoked';
    consent.reason = failure?.message ?? 'the consent could not be verified';
    if (callback.app === 'backup') await requireReauthorization(state, consent.reason);
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
    if (callback.app === 'backup') await requireReauthorization(state, consent.reason);
    return;
  }
  consent.state = 'granted';
  consent.reason = undefined;
  consent.grantedAt = new Date().toISOString();
  if (callback.app === 'restore') {
    record.restoreApp.mode = callback.mode ?? 'permanent';
    return;
  }
  await activate(state);
}
