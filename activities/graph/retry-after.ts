import { GraphClientError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphStats } from './graph-stats';
import { LruCache, perTenantCacheLimits } from '../lru-cache';
import { discardBody, requestUrl, requireNext, setRequestHeader, sleep } from './middleware-util';
import { isReportsRequest } from './reports-limit';

/**
 * Retry-After as milliseconds: seconds, possibly fractional ("Retry-After: 2.128" in Microsoft's samples), or an
 * HTTP date (RFC 9110 10.2.3). https://learn.microsoft.com/en-us/graph/throttling.
 * Undefined when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Graph asked us to wait longer than we are willing to wait inside one activity attempt. The capture activity turns
 * it into an ApplicationFailure with `nextRetryDelay` (see toActivityFailure) so Temporal retries after the server's
 * delay. Extends GraphClientError because graph-client rethrows those as they are instead of wrapping them.
 */
export class GraphThrottledError extends GraphClientError {
  override readonly name = 'GraphThrottledError';

  constructor(
    /** How long from now until the app+tenant may send again. */
    readonly retryAfterMs: number,
    message = `Graph throttled this app in the tenant; retry after ${Math.ceil(retryAfterMs)} ms`,
  ) {
    super(message);
    // GraphClientError's constructor pins the prototype to its own; restore ours so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * The instant before which no request of one (app, tenant) may be sent from this process. Shared by every client
 * of that pair, so a 429 seen by one read holds back all the others, not only the request that got it: Microsoft
 * counts the budget per app+tenant (https://learn.microsoft.com/en-us/graph/throttling-limits), and a request sent
 * during the Retry-After is throttled
 * again and can extend the penalty. A gate also honours its app's gate, closed by 429s whose
 * `x-ms-throttle-scope` is `Application/…` (https://learn.microsoft.com/en-us/graph/throttling-limits: the app's limits
 * across all tenants).
 */
export class RetryAfterGate {
  private until = 0;

  constructor(private readonly appGate?: RetryAfterGate) {}

  /** Moves the gate's opening later, never earlier; `application` closes the app's gate for every tenant. */
  closeUntil(at: number, scope: 'tenant' | 'application' = 'tenant'): void {
    if (scope === 'application' && this.appGate) this.appGate.closeUntil(at);
    else if (at > this.until) this.until = at;
  }

  remainingMs(now = Date.now()): number {
    return Math.max(0, this.until - now, this.appGate?.remainingMs(now) ?? 0);
  }

  /** Resolves once the gate is open. Loops because another 429 may have moved the opening while we slept. */
  async pass(): Promise<void> {
    for (let left = this.remainingMs(); left > 0; left = this.remainingMs()) await sleep(left);
  }
}

/**
 * `x-ms-throttle-scope: <Scope>/<Limit>/<ApplicationId>/<TenantId>`
 * (https://learn.microsoft.com/en-us/graph/throttling-limits).
 */
export function throttleScope(scopeHeader: string | null | undefined): 'tenant' | 'application' {
  return /^application\//i.test(scopeHeader ?? '') ? 'application' : 'tenant';
}

/** Process-wide gates keyed by (app client id, tenant), each under its app's gate. */
export class RetryAfterGates {
  private readonly gates = new Map<string, RetryAfterGate>();
  // Bounded per tenant; a gate still closed is never forgotten, so no request goes out before its Retry-After.
  private readonly tenantGates = new LruCache<string, RetryAfterGate>(
    perTenantCacheLimits.retryAfterGates,
    (gate) => gate.remainingMs() === 0,
  );

  /** `reports`: the reports service's own gate (reports-limit.ts), under the same app gate. */
  get(appClientId: string, tenant: string, service: 'directory' | 'reports' = 'directory'): RetryAfterGate {
    const app = appClientId.toLowerCase();
    let appGate = this.gates.get(app);
    if (!appGate) this.gates.set(app, (appGate = new RetryAfterGate()));
    const parent = appGate;
    const key = `${app}/${tenant.toLowerCase()}${service === 'reports' ? '/reports' : ''}`;
    return this.tenantGates.getOrCreate(key, () => new RetryAfterGate(parent));
  }
}

export const retryAfterGates = new RetryAfterGates();

export interface RetryAfterOptions {
  /** Longest a request waits at the gate in total before giving up with GraphThrottledError. Default 60 s. */
  maxInlineWaitMs: number;
  /** Throttled answers one request retries before giving up with GraphThrottledError. Default 10. */
  maxAttempts: number;
  /** Added to every Retry-After: clocks and timers may be a few ms early. Default 10 ms. */
  marginMs: number;
  /** Delay when a 429 carries no Retry-After (Microsoft: "except when noted"); doubles per attempt. Default 2 s. */
  fallbackDelayMs: number;
}

export const DEFAULT_RETRY_AFTER_OPTIONS: RetryAfterOptions = {
  maxInlineWaitMs: 60_000,
  maxAttempts: 10,
  marginMs: 10,
  fallbackDelayMs: 2_000,
};

/**
 * How long a response asks us to wait, or undefined when it is not a throttling answer. 429 always
 * (https://learn.microsoft.com/en-us/graph/errors); 503/504 only with a Retry-After, as graph-client's RetryHandler
 * does (https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/middleware/RetryHandler.ts) — without
 * one they are plain
 * transient errors for TransientRetryHandler.
 */
export function throttleDelayMs(response: Response, attempt: number, options: RetryAfterOptions): number | undefined {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  if (response.status === 429) return retryAfter ?? options.fallbackDelayMs * 2 ** Math.min(attempt, 5);
  if ((response.status === 503 || response.status === 504) && retryAfter !== undefined) return retryAfter;
  return undefined;
}

/**
 * Waits at the tenant's gate before every attempt, records each throttling answer's Retry-After on it, and retries.
 * Sits directly above the wire (below the pacer) so nothing can be sent between the gate check and the request.
 * Requests to the reports service wait at, and close, the reports gate instead, and do not slow the pacer.
 */
export class RetryAfterHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly gate: RetryAfterGate,
    private readonly stats: GraphStats,
    private readonly options: RetryAfterOptions = DEFAULT_RETRY_AFTER_OPTIONS,
    /** Told of each throttling answer (the pacer slows down). */
    private readonly onThrottled: (retryAfterMs: number) => void = () => {},
    private readonly reportsGate: RetryAfterGate = gate,
  ) {}

  async execute(context: Context): Promise<void> {
    const next = requireNext(this.next, 'RetryAfterHandler');
    const reports = isReportsRequest(requestUrl(context));
    const gate = reports ? this.reportsGate : this.gate;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const left = gate.remainingMs();
      if (left > 0) {
        if (waited + left > this.options.maxInlineWaitMs) throw new GraphThrottledError(left);
        const started = performance.now();
        await gate.pass();
        const ms = performance.now() - started;
        waited += ms;
        this.stats.throttleWaitMs += ms;
      }
      if (attempt > 0) setRequestHeader(context, 'Retry-Attempt', String(attempt));
      await next.execute(context);
      const response = context.response;
      if (!response) return;
      const delay = throttleDelayMs(response, attempt, this.options);
      if (delay === undefined) return;
      // Anchored at receipt, after the server started its own clock: we never open before Graph does.
      const reopensAt = Date.now() + delay + this.options.marginMs;
      gate.closeUntil(reopensAt, throttleScope(response.headers.get('x-ms-throttle-scope')));
      if (!reports) this.onThrottled(delay);
      await discardBody(response);
      if (attempt + 1 >= this.options.maxAttempts) throw new GraphThrottledError(gate.remainingMs());
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
