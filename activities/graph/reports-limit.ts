import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphStats } from './graph-stats';
import { LruCache, perTenantCacheLimits } from '../lru-cache';
import { requestUrl, requireNext, sleep } from './middleware-util';

/**
 * Identity and access reports (the directory audit log, sign-ins, reports) are a service of their own with a limit
 * of their own: 5 requests per 10 seconds per app per tenant, whatever they cost
 * (https://learn.microsoft.com/en-us/graph/throttling-limits, "Identity and access reports service limits"). Their
 * 429s say nothing about the directory's resource-unit budget, so they get a Retry-After gate of their own
 * (RetryAfterGates.get(…, 'reports')) and never slow the pacer.
 */
export const REPORTS_LIMIT = { requests: 5, windowMs: 10_000 };

/** True for a request to the reports service: `/{version}/auditLogs/…` or `/{version}/reports/…`. */
export function isReportsRequest(url: string): boolean {
  let path: string;
  try {
    path = new URL(url, 'https://graph.invalid').pathname;
  } catch {
    return false;
  }
  return /^\/[^/]+\/(auditLogs|reports)(\/|$)/i.test(path);
}

/**
 * A sliding window of the last requests' send times, per (app, tenant), in this process. Other processes may use the
 * same limit: their excess comes back as a 429, which the reports gate waits out.
 */
export class ReportsWindow {
  private readonly sent: number[] = [];

  constructor(private readonly limit = REPORTS_LIMIT) {}

  /** Waits until one more request fits the window, then counts it as sent. */
  async take(): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = Date.now();
      while (this.sent.length > 0 && now - this.sent[0] >= this.limit.windowMs) this.sent.shift();
      if (this.sent.length < this.limit.requests) {
        this.sent.push(now);
        return waited;
      }
      const wait = this.sent[0] + this.limit.windowMs - now;
      await sleep(wait);
      waited += wait;
    }
  }

  idle(now = Date.now()): boolean {
    return this.sent.every((t) => now - t >= this.limit.windowMs);
  }
}

export class ReportsWindows {
  private readonly windows = new LruCache<string, ReportsWindow>(perTenantCacheLimits.retryAfterGates, (w) => w.idle());

  constructor(private readonly limit = REPORTS_LIMIT) {}

  get(appClientId: string, tenant: string): ReportsWindow {
    return this.windows.getOrCreate(
      `${appClientId.toLowerCase()}/${tenant.toLowerCase()}`,
      () => new ReportsWindow(this.limit),
    );
  }
}

export const reportsWindows = new ReportsWindows();

/**
 * Holds each attempt of a reports request until the app+tenant's window has room. Below the Retry-After handler, so
 * an attempt retried after a 429 takes its turn too; other requests pass straight through.
 */
export class ReportsLimitHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly window: ReportsWindow,
    private readonly stats: GraphStats,
  ) {}

  async execute(context: Context): Promise<void> {
    const next = requireNext(this.next, 'ReportsLimitHandler');
    if (isReportsRequest(requestUrl(context))) this.stats.pacingWaitMs += await this.window.take();
    await next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
