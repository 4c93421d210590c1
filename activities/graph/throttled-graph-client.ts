import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  TelemetryHandler,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import type { EntraConfig } from '../../temporal.config';
import { TokenAcquisitionError } from './graph-failure';
import { GraphStats, StatsHandler } from './graph-stats';
import { graphMeter } from './graph-metrics';
import { pacers as defaultPacers, type Pacer, type PacerOptions, type PacerRegistry } from './pacer';
import { PacingHandler } from './pacing-handler';
import { ReportsLimitHandler, reportsWindows, type ReportsWindows } from './reports-limit';
import { RequestTimeoutHandler } from './request-timeout';
import {
  DEFAULT_RETRY_AFTER_OPTIONS,
  RetryAfterHandler,
  retryAfterGates as defaultGates,
  type RetryAfterGate,
  type RetryAfterGates,
  type RetryAfterOptions,
} from './retry-after';
import { TokenRefreshHandler } from './token-refresh';
import { DEFAULT_TRANSIENT_RETRY_OPTIONS, TransientRetryHandler, type TransientRetryOptions } from './transient-retry';

export interface ThrottleOptions {
  pacer?: Partial<PacerOptions>;
  retryAfter?: Partial<RetryAfterOptions>;
  transient?: Partial<TransientRetryOptions>;
  /** Deadline of one attempt, response body included. Default: the configuration's graphRequestTimeoutMs. */
  requestTimeoutMs?: number;
  /** Registries to share pacers and gates through; the process-wide ones by default (tests pass fresh ones). */
  pacers?: PacerRegistry;
  gates?: RetryAfterGates;
  reportsWindows?: ReportsWindows;
}

export interface ThrottledGraphClient {
  client: Client;
  stats: GraphStats;
  pacer: Pacer;
  gate: RetryAfterGate;
  retryAfter: RetryAfterOptions;
  /** Graph version root the client is pointed at, e.g. https://graph.microsoft.com/v1.0 (no trailing slash). */
  graphRoot: string;
}

/**
 * graph-client with our middleware chain for one (app, tenant), like the SDK's default chain but throttle-aware:
 *
 *   AuthenticationHandler → TelemetryHandler → TokenRefreshHandler (401) → TransientRetryHandler (5xx, resets)
 *     → PacingHandler (RU budget) → RetryAfterHandler (shared gate, 429) → ReportsLimitHandler (5 per 10 s)
 *     → StatsHandler → RequestTimeoutHandler → HTTPMessageHandler
 *
 * The SDK's RetryHandler is left out on purpose: it waits per request, so the other requests of the tenant keep
 * going during a Retry-After
 * (https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/middleware/RetryHandler.ts), and it
 * retries after at most 180 s whatever Graph said.
 */
export function createThrottledGraphClient(
  entra: EntraConfig,
  auth: {
    appClientId: string;
    tenant: string;
    getAccessToken: () => Promise<string>;
    refreshAccessToken: () => Promise<string>;
  },
  options: ThrottleOptions = {},
): ThrottledGraphClient {
  const root = new URL(entra.graphBaseUrl);
  const version = root.pathname.replace(/^\/+|\/+$/g, '') || 'v1.0';
  const pacer = (options.pacers ?? defaultPacers).get(auth.appClientId, auth.tenant, options.pacer);
  const stats = new GraphStats(graphMeter(pacer));
  const gate = (options.gates ?? defaultGates).get(auth.appClientId, auth.tenant);
  const reportsGate = (options.gates ?? defaultGates).get(auth.appClientId, auth.tenant, 'reports');
  const retryAfter = { ...DEFAULT_RETRY_AFTER_OPTIONS, ...options.retryAfter };
  const middleware: Middleware[] = [
    new AuthenticationHandler({ getAccessToken: () => carryFailure(auth.getAccessToken) }),
    new TelemetryHandler(),
    new TokenRefreshHandler(() => carryFailure(auth.refreshAccessToken), stats),
    new TransientRetryHandler(stats, { ...DEFAULT_TRANSIENT_RETRY_OPTIONS, ...options.transient }),
    new PacingHandler(pacer, stats),
    new RetryAfterHandler(gate, stats, retryAfter, (ms) => pacer.throttled(ms), reportsGate),
    new ReportsLimitHandler((options.reportsWindows ?? reportsWindows).get(auth.appClientId, auth.tenant), stats),
    new StatsHandler(stats),
    new RequestTimeoutHandler(options.requestTimeoutMs ?? entra.graphRequestTimeoutMs),
    new HTTPMessageHandler(),
  ];
  const client = Client.initWithMiddleware({
    middleware,
    baseUrl: root.origin,
    defaultVersion: version,
    // Lets AuthenticationHandler attach our token to a host other than graph.microsoft.com
    // (https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/GraphRequestUtil.ts).
    customHosts: new Set([root.hostname]),
  });
  return { client, stats, pacer, gate, retryAfter, graphRoot: `${root.origin}/${version}` };
}

async function carryFailure(acquire: () => Promise<string>): Promise<string> {
  try {
    return await acquire();
  } catch (err) {
    throw new TokenAcquisitionError(err instanceof Error ? err : new Error(String(err)));
  }
}
