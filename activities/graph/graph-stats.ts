import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { readResourceUnits } from './resource-units';
import { requireNext } from './middleware-util';

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

export class GraphStats implements GraphStatsSnapshot {
  requests = 0;
  resourceUnits = 0;
  throttled = 0;
  throttleWaitMs = 0;
  pacingWaitMs = 0;
  graphTimeMs = 0;
  transientRetries = 0;
  tokenRefreshes = 0;

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
    const started = performance.now();
    this.stats.requests++;
    try {
      await requireNext(this.next, 'StatsHandler').execute(context);
    } finally {
      this.stats.graphTimeMs += performance.now() - started;
    }
    const response = context.response;
    if (!response) return;
    if (response.status === 429) this.stats.throttled++;
    this.stats.resourceUnits += readResourceUnits((n) => response.headers.get(n)) ?? 0;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
