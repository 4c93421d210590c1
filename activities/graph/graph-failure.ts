import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { ApplicationFailure } from '@temporalio/common';
import { authFailure } from './auth-failure';
import { GraphThrottledError, parseRetryAfter } from './retry-after';

/**
 * A delta link Graph no longer accepts: `410 Gone` with a `Location` holding the request that starts over
 * ("same as the initial query"), or a 40X with `syncStateNotFound`/`resyncRequired`
 * (https://learn.microsoft.com/en-us/graph/errors, https://learn.microsoft.com/en-us/graph/delta-query-overview;
 * https://learn.microsoft.com/en-us/graph/delta-query-overview). The capture activity catches it and reads the type
 * in full; the delta link and any saved next link of that round are useless.
 */
export class DeltaTokenExpiredError extends Error {
  override readonly name = 'DeltaTokenExpiredError';

  constructor(
    readonly url: string,
    /** Graph's restart URL from `Location`, when it sent one. */
    readonly location: string | undefined,
    readonly code: string | undefined,
  ) {
    super(`Graph no longer accepts this delta link (${code ?? 'Gone'}): a full read is needed`);
  }
}

/**
 * The token for a request could not be acquired. graph-client turns any other error thrown inside its middleware
 * into a GraphError without its cause (statusCode -1), which would lose a ConsentRevoked ApplicationFailure from
 * TokenProvider; GraphClientErrors pass through untouched, so the cause travels in one. TenantGraph unwraps it.
 */
export class TokenAcquisitionError extends GraphClientError {
  override readonly name = 'TokenAcquisitionError';

  constructor(readonly failure: Error) {
    super(failure.message);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

const DELTA_RESET_CODES = new Set(['syncStateNotFound', 'resyncRequired', 'SyncStateNotFound']);

function isDeltaResetAnswer(status: number, code: string | null | undefined): boolean {
  return status === 410 || DELTA_RESET_CODES.has(code ?? '');
}

export function isDeltaReset(err: unknown): err is GraphError {
  return err instanceof GraphError && isDeltaResetAnswer(err.statusCode, err.code);
}

/** Graph's identifying parts of a failure, for messages and failure details. */
export function describeGraphError(err: GraphError): { status: number; code?: string; requestId?: string } {
  return { status: err.statusCode, code: err.code ?? undefined, requestId: err.requestId ?? undefined };
}

/**
 * What a capture activity throws for an error of the read layer, so Temporal does the right thing:
 * - GraphThrottledError (or a 429 that got through) → retryable `GraphThrottled` with `nextRetryDelay` = Graph's
 *   Retry-After, overriding the retry policy's backoff for that attempt (issue 6 item 4);
 * - 403 Authorization_RequestDenied → non-retryable PermissionMissing (an admin must consent;
 * https://learn.microsoft.com/en-us/entra/identity-platform/scenario-daemon-acquire-token);
 * - 410 / delta reset → non-retryable `DeltaTokenExpired` (the caller should have caught DeltaTokenExpiredError);
 * - 401 (already retried once with a fresh token), 5xx, resets, timeouts → a plain Error: retryable;
 * - other 4xx (400, 404, 501…) → non-retryable `GraphRequestFailed`: the same request fails the same way.
 */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TokenAcquisitionError) return toActivityFailure(err.failure);
  if (err instanceof GraphThrottledError) {
    return ApplicationFailure.create({
      type: 'GraphThrottled',
      message: err.message,
      nextRetryDelay: Math.max(1, Math.ceil(err.retryAfterMs)),
      details: [{ retryAfterMs: err.retryAfterMs }],
    });
  }
  if (err instanceof DeltaTokenExpiredError) {
    return ApplicationFailure.create({
      type: 'DeltaTokenExpired',
      message: err.message,
      nonRetryable: true,
      details: [{ url: err.url, location: err.location, code: err.code }],
    });
  }
  if (!(err instanceof GraphError)) return err instanceof Error ? err : new Error(String(err));
  const info = describeGraphError(err);
  const what = `Graph answered ${info.status}${info.code ? ` ${info.code}` : ''}${err.message ? `: ${err.message}` : ''}`;
  if (info.status === 429) {
    const retryAfterMs = parseRetryAfter(err.headers?.get('retry-after')) ?? 10_000;
    return ApplicationFailure.create({
      type: 'GraphThrottled',
      message: what,
      nextRetryDelay: Math.max(1, retryAfterMs),
      details: [{ ...info, retryAfterMs }],
    });
  }
  if (info.status === 403 && info.code === 'Authorization_RequestDenied') {
    return authFailure('PermissionMissing', `Graph refused the read (403 ${info.code}): an admin must consent again`);
  }
  if (isDeltaResetAnswer(info.status, info.code)) {
    return ApplicationFailure.create({ type: 'DeltaTokenExpired', message: what, nonRetryable: true, details: [info] });
  }
  // statusCode -1: graph-client wraps a request that never got an answer (reset, timeout) with no status.
  if (info.status === 401 || info.status >= 500 || info.status <= 0 || info.status === 408) {
    return new Error(what);
  }
  return ApplicationFailure.create({ type: 'GraphRequestFailed', message: what, nonRetryable: true, details: [info] });
}
