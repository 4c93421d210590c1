import { ApplicationFailure } from '@temporalio/common';
import type { AuthFailureKind } from '../../workflow-constants';

// The one list of failure kinds that mean "an admin must consent again" lives with the workflow constants, so
// workflows and activities read the same list.
export { AUTH_FAILURE_KINDS, type AuthFailureKind } from '../../workflow-constants';

export function authFailure(kind: AuthFailureKind, reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: kind, message: reason, nonRetryable: true, details: [{ kind, reason }] });
}

interface MsalLikeError {
  errorCode?: string;
  /** msal-node documents a string; it hands over Microsoft's `error_codes[0]`, a number. */
  errorNo?: string | number;
  errorMessage?: string;
  message?: string;
}

/**
 * Maps a token-endpoint error to an AuthFailure, or undefined when it is transient (5xx, network) and should retry.
 * Codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS codes, not messages).
 */
export function classifyTokenError(err: unknown): ApplicationFailure | undefined {
  const e = err as MsalLikeError;
  const text = `${e.errorMessage ?? ''} ${e.message ?? ''}`;
  const code = e.errorNo !== undefined ? String(e.errorNo) : /AADSTS(\d+)/.exec(text)?.[1];
  switch (code) {
    case '7000229':
    case '700016':
    case '65001':
      return authFailure(
        'ConsentRevoked',
        `the app is not authorized in this tenant (AADSTS${code}): an admin must consent again`,
      );
    case '7000215':
    case '7000222':
      return authFailure(
        'AppCredentialsInvalid',
        `the app's client secret was refused (AADSTS${code}): fix the configuration`,
      );
    case '90002':
      return authFailure('TenantNotFound', `the tenant was not found (AADSTS${code})`);
    case '7000112':
      return authFailure('ConsentRevoked', `the app is disabled in this tenant (AADSTS${code})`);
  }
  if (e.errorCode === 'invalid_client' || e.errorCode === 'unauthorized_client') {
    return authFailure('ConsentRevoked', `token request refused: ${e.errorCode}`);
  }
  return undefined;
}
