import { ApplicationFailure } from '@temporalio/common';
import { metrics } from '../observability/metrics';
import type { EntraApp } from '../tenants/types';
import type { CaptureTypeInput, TypeCapture } from './backup/capture-type';
import type { ConsentVerification } from './consent';

/**
 * What a capture tells the process's metrics: objects per type (a catalog key: a few dozen series), types by outcome.
 * Graph and storage series are counted where the requests and writes happen (activities/graph/, storage/).
 */
export function meteredCapture(
  capture: (input: CaptureTypeInput) => Promise<TypeCapture>,
): (input: CaptureTypeInput) => Promise<TypeCapture> {
  return async (input) => {
    try {
      const result = await capture(input);
      metrics.typesCaptured.inc({ outcome: result.status });
      if (result.status === 'captured') metrics.objectsCaptured.inc({ type: result.type }, result.count);
      return result;
    } catch (err) {
      metrics.typesCaptured.inc({ outcome: 'failed' });
      throw err;
    }
  };
}

/**
 * Consent verifications by app and the state they found: granted, missing-permissions, or the failure's type
 * (ConsentRevoked, AppCredentialsInvalid, …: the auth failure kinds, a bounded set).
 */
export function meteredConsent(
  verify: (input: { directory: string; app: EntraApp }) => Promise<ConsentVerification>,
): (input: { directory: string; app: EntraApp }) => Promise<ConsentVerification> {
  return async (input) => {
    try {
      const result = await verify(input);
      metrics.consentChecks.inc({
        app: input.app,
        state: result.missingRoles.length ? 'missing-permissions' : 'granted',
      });
      return result;
    } catch (err) {
      const state = err instanceof ApplicationFailure && err.type ? err.type : 'error';
      metrics.consentChecks.inc({ app: input.app, state });
      throw err;
    }
  };
}
