import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { readResourceUnits } from './resource-units';
import { requestMethod, requestUrl, requireNext } from './middleware-util';
import { inSpan } from '../../observability/tracing';

/**
 * What one Graph client spent, for a backup's progress and the benchmark's "where the time went". Mutable counters:
 * the handlers below and TenantGraph add to them; readers take `snapshot()`.
 */
export interface GraphStatsSnapshot {
  /** HTTP requests put on the wire, retries included (a `$batch` is one). */
  requests: number;
  /** Resource units Graph reported in `x-ms-resource-unit` (inner `$batch` responses included). */
  resourceUnits: number;
  /** 429 answers, inner `$batch` ones included. */
  throttled: number;
  /** Time requests spent held by a Retry-After (https://learn.microsoft.com/en-us/graph/throttling). */
  throttleWaitMs: number;
  /**
   * Time requests spent queued by the pacer to stay within the tenant's resource-unit budget. After a 429 the pacer
   * also holds requests it has not yet released until the Retry-After ends, so part of a throttled wait lands here:
   * report throttleWaitMs + pacingWaitMs as "waiting for Graph's budget".
   */
  pacingWaitMs: number;
  /** Time from sending a request to its response headers, summed over requests (concurrent ones overlap). */
  graphTimeMs: number;
  /** Requests retried after a 5xx, a reset connection or a timeout. */
  transientRetries: number;
  /** Requests retried once with a freshly acquired token after a 401. */
  tokenRefreshes: number;
}

/** Where a GraphStats also reports what it counts, as it counts it (the process's Prometheus series). */
export interface GraphMeter {
  requests(n: number): void;
  resourceUnits(n: number): void;
  throttled(n: number): void;
  throttleWaitMs(ms: number): void;
  pacingWaitMs(ms: number): void;
}

export class GraphStats implements GraphStatsSnapshot {
  private counts = { requests: 0, resourceUnits: 0, throttled: 0, throttleWaitMs: 0, pacingWaitMs: 0 };
  graphTimeMs = 0;
  transientRetries = 0;
  tokenRefreshes = 0;

  /**
   * The handlers add to these fields as they always did; the accessors pass each increment on to the meter, so the
   * process-wide series move as requests happen, not only when an activity reports.
   */
  constructor(private readonly meter?: GraphMeter) {}

  get requests() {
    return this.counts.requests;
  }
  set requests(v: number) {
    this.meter?.requests(v - this.counts.requests);
    this.counts.requests = v;
  }
  get resourceUnits() {
    return this.counts.resourceUnits;
  }
  set resourceUnits(v: number) {
    this.meter?.resourceUnits(v - this.counts.resourceUnits);
    this.counts.resourceUnits = v;
  }
  get throttled() {
    return this.counts.throttled;
  }
  set throttled(v: number) {
    this.meter?.throttled(v - this.counts.throttled);
    this.counts.throttled = v;
  }
  get throttleWaitMs() {
    return this.counts.throttleWaitMs;
  }
  set throttleWaitMs(v: number) {
    this.meter?.throttleWaitMs(v - this.counts.throttleWaitMs);
    this.counts.throttleWaitMs = v;
  }
  get pacingWaitMs() {
    return this.counts.pacingWaitMs;
  }
  set pacingWaitMs(v: number) {
    this.meter?.pacingWaitMs(v - this.counts.pacingWaitMs);
    this.counts.pacingWaitMs = v;
  }

  snapshot(): GraphStatsSnapshot {
    return {
      requests: this.requests,
      resourceUnits: this.resourceUnits,
      throttled: this.throttled,
      throttleWaitMs: Math.round(this.throttleWaitMs),
      pacingWaitMs: Math.round(this.pacingWaitMs),
      graphTimeMs: Math.round(this.graphTimeMs),
      transientRetries: this.transientRetries,
      tokenRefreshes: this.tokenRefreshes,
    };
  }
}

/**
 * Counts every request that reaches the wire. Sits just above the HTTP handler so retries made by the handlers
 * above it are counted one by one, and so waiting in the pacer or at the Retry-After gate is not Graph time.
 */
export class StatsHandler implements Middleware {
  private next?: Middleware;

  constructor(private readonly stats: GraphStats) {}

  async execute(context: Context): Promise<void> {
    // One span per request on the wire: method and path only (the query may hold a skip or delta token).
    const path = new URL(requestUrl(context), 'https://graph.invalid').pathname;
    await inSpan(
      `graph ${requestMethod(context)}`,
      { 'http.request.method': requestMethod(context), 'url.path': path },
      async (span) => {
        const started = performance.now();
        this.stats.requests++;
        try {
          await requireNext(this.next, 'StatsHandler').execute(context);
        } finally {
          this.stats.graphTimeMs += performance.now() - started;
        }
        const response = context.response;
        if (!response) return;
        span.setAttribute('http.response.status_code', response.status);
        if (response.status === 429) this.stats.throttled++;
        this.stats.resourceUnits += readResourceUnits((n) => response.headers.get(n)) ?? 0;
      },
    );
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
