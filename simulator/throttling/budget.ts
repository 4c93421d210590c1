import { RESOURCE_UNITS_PER_WINDOW, RESOURCE_UNIT_WINDOW_MS } from '../../microsoft/graph-throttle-limits';
import { TenantSize } from '../store/types';

export interface ThrottleConfig {
  enabled: boolean;
  /** Resource-unit window (Microsoft: 10 s). */
  windowMs: number;
  /** Resource units per window by tenant size (Microsoft: S 3,500 / M 5,000 / L 8,000). */
  limits: Record<TenantSize, number>;
  /** Write window (Microsoft: 2 min 30 s) and writes per window per app+tenant (Microsoft: 3,000). */
  writeWindowMs: number;
  writeLimit: number;
  /**
   * Per application across all tenants (Microsoft: 150,000 RU per 20 s; 35,000 writes per 5 min). Application- and
   * global-scope values are read from the global config only (a per-tenant override does not change them).
   */
  appResourceUnitLimit: number;
  appResourceUnitWindowMs: number;
  appWriteLimit: number;
  appWriteWindowMs: number;
  /** Per tenant across all applications (Microsoft: 18,000 writes per 5 min). Per-tenant overrides apply. */
  tenantWriteLimit: number;
  tenantWriteWindowMs: number;
  /** Global limit per application across all tenants, any request (Microsoft: 130,000 requests per 10 s). */
  globalRequestLimit: number;
  globalWindowMs: number;
  /**
   * Identity and access reports (`/auditLogs/…`, `/reports/…`): any request, per app+tenant (Microsoft: 5 per 10 s),
   * a service of their own beside the resource-unit budget. Per-tenant overrides apply.
   */
  reportsLimit: number;
  reportsWindowMs: number;
  /**
   * Other requests arriving this soon after a 429 were in flight when it was answered: not early retries (default
   * IN_FLIGHT_GRACE_MS). Global config only. A test on a loaded machine raises it together with a longer Retry-After.
   */
  inFlightGraceMs?: number;
}

/** https://learn.microsoft.com/en-us/graph/throttling-limits. */
export const DEFAULT_THROTTLE: ThrottleConfig = {
  enabled: true,
  windowMs: RESOURCE_UNIT_WINDOW_MS,
  limits: { ...RESOURCE_UNITS_PER_WINDOW },
  writeWindowMs: 150_000,
  writeLimit: 3000,
  appResourceUnitLimit: 150_000,
  appResourceUnitWindowMs: 20_000,
  appWriteLimit: 35_000,
  appWriteWindowMs: 300_000,
  tenantWriteLimit: 18_000,
  tenantWriteWindowMs: 300_000,
  globalRequestLimit: 130_000,
  globalWindowMs: 10_000,
  // "Identity and access reports service limits": https://learn.microsoft.com/en-us/graph/throttling-limits
  reportsLimit: 5,
  reportsWindowMs: 10_000,
};

export interface EarlyRetry {
  at: string;
  tenantId: string;
  appId: string;
  method: string;
  url: string;
  /** How many ms before the end of the Retry-After it had been given the request arrived. */
  earlyByMs: number;
}

export interface UsageCounters {
  tenantId: string;
  appId: string;
  requests: number;
  resourceUnits: number;
  writes: number;
  throttled: number;
  earlyRetries: number;
}

/** One fixed window of a counter. */
class Window {
  start = 0;
  used = 0;
  roll(now: number, windowMs: number): void {
    if (now - this.start >= windowMs) {
      this.start = now;
      this.used = 0;
    }
  }
}

interface AppState {
  requests: Window;
  resourceUnits: Window;
  writes: Window;
}

/** The last Retry-After one service gave an app+tenant, to tell early retries. */
interface RetryAfterGiven {
  retryAfterUntil: number;
  /** The HTTP request whose answer carried that Retry-After (a $batch's inner requests share their batch's). */
  retryAfterGivenIn: number;
  /** When that 429 was answered, and to which request. */
  retryAfterGivenAt: number;
  retryAfterGivenTo: string;
}

interface BucketState extends RetryAfterGiven {
  usage: UsageCounters;
  ruWindowStart: number;
  ruUsed: number;
  writeWindowStart: number;
  writesUsed: number;
  /**
   * The reports service counts its own requests and gives its own Retry-After: a client that waits out a reports
   * 429 need not hold back its directory reads, nor the reverse.
   */
  reports: RetryAfterGiven & { windowStart: number; used: number };
}

const noRetryAfter = (): RetryAfterGiven => ({
  retryAfterUntil: 0,
  retryAfterGivenIn: -1,
  retryAfterGivenAt: 0,
  retryAfterGivenTo: '',
});

/**
 * Another request that arrives this soon after a 429 was answered was already on its way: the client could not
 * have known of the Retry-After when it sent it, so it is not counted as an early retry (choice). A client with
 * several requests in flight on two busy cores (the whole test stack shares them) was seen to need 70 ms between
 * a $batch answer leaving here and its next request arriving, so 50 ms flagged honest clients; a round trip to
 * Graph itself takes longer than this. The throttled request itself sent again is early however soon it comes.
 */
export const IN_FLIGHT_GRACE_MS = 250;

export interface ThrottleDecision {
  allowed: boolean;
  retryAfterSeconds?: number;
  information?: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded' | 'RequestLimitExceeded' | 'ReportsLimitExceeded';
  /**
   * `<Scope>/<Limit>/<ApplicationId>/<TenantId>`, Scope Tenant_Application | Tenant | Application
   * (https://learn.microsoft.com/en-us/graph/throttling-limits).
   */
  scope?: string;
  /** The quota that was hit, for the error message. */
  quota?: 'Tenant_Application' | 'Tenant' | 'Application' | 'Global' | 'Reports';
  /** Fraction of the RU limit used, for x-ms-throttle-limit-percentage (only sent above 0.8). */
  limitFraction: number;
  /** The request came before the Retry-After this app+tenant was last given. */
  early: boolean;
}

/**
 * Fixed-window budgets (Microsoft describes a token bucket; a fixed window gives the same limits): per app+tenant
 * (resource units, writes), per tenant (writes, all apps), per application across tenants (resource units, writes)
 * and the global per-application request limit. A throttled request consumes nothing.
 */
export class ThrottleBudget {
  config: ThrottleConfig = structuredClone(DEFAULT_THROTTLE);
  readonly tenantOverrides = new Map<string, Partial<ThrottleConfig>>();
  private buckets = new Map<string, BucketState>();
  private appStates = new Map<string, AppState>();
  private tenantWrites = new Map<string, Window>();
  readonly earlyRetries: EarlyRetry[] = [];
  /** When each recent HTTP request arrived: the requests inside one $batch were all sent at that moment. */
  private readonly arrivals = new Map<number, number>();

  configFor(tenantId: string): ThrottleConfig {
    const o = this.tenantOverrides.get(tenantId);
    return o ? { ...this.config, ...o, limits: { ...this.config.limits, ...(o.limits ?? {}) } } : this.config;
  }

  private bucket(tenantId: string, appId: string, now: number): BucketState {
    const key = `${tenantId}/${appId}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = {
        usage: { tenantId, appId, requests: 0, resourceUnits: 0, writes: 0, throttled: 0, earlyRetries: 0 },
        ruWindowStart: now,
        ruUsed: 0,
        writeWindowStart: now,
        writesUsed: 0,
        ...noRetryAfter(),
        reports: { ...noRetryAfter(), windowStart: now, used: 0 },
      };
      this.buckets.set(key, b);
    }
    return b;
  }

  check(
    req: {
      tenantId: string;
      appId: string;
      size: TenantSize;
      ru: number;
      write: boolean;
      method: string;
      url: string;
      /**
       * The HTTP request this one arrived in. Requests inside the same $batch as the one that got a 429 were sent
       * before the client could know of its Retry-After, so they are not early retries.
       */
      httpRequest?: number;
      /** A request to the identity and access reports service (audit logs, reports). */
      reports?: boolean;
    },
    now = Date.now(),
  ): ThrottleDecision {
    const cfg = this.configFor(req.tenantId);
    const b = this.bucket(req.tenantId, req.appId, now);
    b.usage.requests++;
    const given = req.reports ? b.reports : b;
    const early = this.noteEarly(b, given, req, now);
    if (now - b.reports.windowStart >= cfg.reportsWindowMs) {
      b.reports.windowStart = now;
      b.reports.used = 0;
    }
    if (now - b.ruWindowStart >= cfg.windowMs) {
      b.ruWindowStart = now;
      b.ruUsed = 0;
    }
    if (now - b.writeWindowStart >= cfg.writeWindowMs) {
      b.writeWindowStart = now;
      b.writesUsed = 0;
    }
    const limit = cfg.limits[req.size];
    const scopeLimit = req.write ? 'Write' : 'Read';
    const g = this.config;
    let app = this.appStates.get(req.appId);
    if (!app)
      this.appStates.set(
        req.appId,
        (app = { requests: new Window(), resourceUnits: new Window(), writes: new Window() }),
      );
    app.requests.roll(now, g.globalWindowMs);
    app.resourceUnits.roll(now, g.appResourceUnitWindowMs);
    app.writes.roll(now, g.appWriteWindowMs);
    let tw = this.tenantWrites.get(req.tenantId);
    if (!tw) this.tenantWrites.set(req.tenantId, (tw = new Window()));
    tw.roll(now, cfg.tenantWriteWindowMs);
    if (cfg.enabled) {
      // "Any request can be evaluated against multiple limits ... The first limit to be reached triggers throttling
      // behavior." https://learn.microsoft.com/en-us/graph/throttling-limits
      type Hit = { until: number; information: NonNullable<ThrottleDecision['information']>; scope: string };
      const ids = `${req.appId}/${req.tenantId}`;
      let hit: Hit | undefined;
      let quota: ThrottleDecision['quota'];
      if (req.reports && b.reports.used + 1 > cfg.reportsLimit) {
        // The scope string of a reports 429 is not documented; the limit is per app per tenant.
        hit = {
          until: b.reports.windowStart + cfg.reportsWindowMs,
          information: 'ReportsLimitExceeded',
          scope: `Tenant_Application/Read/${ids}`,
        };
        quota = 'Reports';
      } else if (app.requests.used + 1 > g.globalRequestLimit) {
        // https://learn.microsoft.com/en-us/graph/throttling-limits: the global per-app request limit; its scope string
        // is not documented (Application/ReadWrite chosen).
        hit = {
          until: app.requests.start + g.globalWindowMs,
          information: 'RequestLimitExceeded',
          scope: `Application/ReadWrite/${ids}`,
        };
        quota = 'Global';
      } else if (b.ruUsed + req.ru > limit) {
        hit = {
          until: b.ruWindowStart + cfg.windowMs,
          information: 'ResourceUnitLimitExceeded',
          scope: `Tenant_Application/${scopeLimit}/${ids}`,
        };
        quota = 'Tenant_Application';
      } else if (req.write && b.writesUsed + 1 > cfg.writeLimit) {
        hit = {
          until: b.writeWindowStart + cfg.writeWindowMs,
          information: 'WriteLimitExceeded',
          scope: `Tenant_Application/Write/${ids}`,
        };
        quota = 'Tenant_Application';
      } else if (req.write && tw.used + 1 > cfg.tenantWriteLimit) {
        hit = {
          until: tw.start + cfg.tenantWriteWindowMs,
          information: 'WriteLimitExceeded',
          scope: `Tenant/Write/${ids}`,
        };
        quota = 'Tenant';
      } else if (req.write && app.writes.used + 1 > g.appWriteLimit) {
        hit = {
          until: app.writes.start + g.appWriteWindowMs,
          information: 'WriteLimitExceeded',
          scope: `Application/Write/${ids}`,
        };
        quota = 'Application';
      } else if (app.resourceUnits.used + req.ru > g.appResourceUnitLimit) {
        hit = {
          until: app.resourceUnits.start + g.appResourceUnitWindowMs,
          information: 'ResourceUnitLimitExceeded',
          scope: `Application/${scopeLimit}/${ids}`,
        };
        quota = 'Application';
      }
      if (hit) {
        b.usage.throttled++;
        const waitMs = Math.max(hit.until - now, 1);
        given.retryAfterUntil = now + waitMs;
        given.retryAfterGivenIn = req.httpRequest ?? -1;
        given.retryAfterGivenAt = now;
        given.retryAfterGivenTo = req.url;
        return {
          allowed: false,
          retryAfterSeconds: Math.ceil(waitMs) / 1000,
          information: hit.information,
          scope: hit.scope,
          quota,
          limitFraction: (b.ruUsed + req.ru) / limit,
          early,
        };
      }
    }
    if (req.reports) b.reports.used++;
    b.ruUsed += req.ru;
    b.usage.resourceUnits += req.ru;
    app.requests.used++;
    app.resourceUnits.used += req.ru;
    if (req.write) {
      b.writesUsed++;
      b.usage.writes++;
      app.writes.used++;
      tw.used++;
    }
    return { allowed: true, limitFraction: b.ruUsed / limit, early };
  }

  /**
   * Whether this request came before the end of a Retry-After the tenant's app was given by the same service
   * (`given`); recorded if so.
   */
  private noteEarly(
    b: BucketState,
    given: RetryAfterGiven,
    req: { tenantId: string; appId: string; method: string; url: string; httpRequest?: number },
    now: number,
  ): boolean {
    // A $batch's inner requests are judged by when the batch arrived, not by when this one's turn came within it.
    const sentAt = this.arrivalOf(req.httpRequest, now);
    const early =
      sentAt < given.retryAfterUntil &&
      (req.url === given.retryAfterGivenTo ||
        sentAt - given.retryAfterGivenAt >= (this.config.inFlightGraceMs ?? IN_FLIGHT_GRACE_MS)) &&
      (req.httpRequest === undefined || req.httpRequest !== given.retryAfterGivenIn);
    if (early) {
      b.usage.earlyRetries++;
      this.earlyRetries.push({
        at: new Date(now).toISOString(),
        tenantId: req.tenantId,
        appId: req.appId,
        method: req.method,
        url: req.url,
        earlyByMs: given.retryAfterUntil - sentAt,
      });
      if (this.earlyRetries.length > 10_000) this.earlyRetries.shift();
    }
    return early;
  }

  private arrivalOf(httpRequest: number | undefined, now: number): number {
    if (httpRequest === undefined) return now;
    const known = this.arrivals.get(httpRequest);
    if (known !== undefined) return known;
    this.arrivals.set(httpRequest, now);
    if (this.arrivals.size > 1000) this.arrivals.delete(this.arrivals.keys().next().value!);
    return now;
  }

  /**
   * A 429 answered by the fault injector rather than by the budget: remembered like the budget's own, so that a
   * request the client sends before its Retry-After is over counts as an early retry.
   */
  injectedThrottle(
    req: { tenantId: string; appId: string; method: string; url: string; httpRequest?: number },
    retryAfterMs: number,
    now = Date.now(),
  ): void {
    const b = this.bucket(req.tenantId, req.appId, now);
    b.usage.requests++;
    this.noteEarly(b, b, req, now);
    b.usage.throttled++;
    b.retryAfterUntil = Math.max(b.retryAfterUntil, now + retryAfterMs);
    b.retryAfterGivenIn = req.httpRequest ?? -1;
    b.retryAfterGivenAt = now;
    b.retryAfterGivenTo = req.url;
  }

  usage(filter: { tenantId?: string; appId?: string } = {}): UsageCounters[] {
    return [...this.buckets.values()]
      .map((b) => ({ ...b.usage }))
      .filter(
        (u) => (!filter.tenantId || u.tenantId === filter.tenantId) && (!filter.appId || u.appId === filter.appId),
      );
  }

  reset(): void {
    this.buckets.clear();
    this.appStates.clear();
    this.tenantWrites.clear();
    this.earlyRetries.length = 0;
  }
}
