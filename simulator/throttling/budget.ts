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
}

export const DEFAULT_THROTTLE: ThrottleConfig = {
  enabled: true,
  windowMs: 10_000,
  limits: { S: 3500, M: 5000, L: 8000 },
  writeWindowMs: 150_000,
  writeLimit: 3000,
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

interface BucketState {
  usage: UsageCounters;
  ruWindowStart: number;
  ruUsed: number;
  writeWindowStart: number;
  writesUsed: number;
  retryAfterUntil: number;
}

export interface ThrottleDecision {
  allowed: boolean;
  retryAfterSeconds?: number;
  information?: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded';
  scope?: string;
  /** Fraction of the RU limit used, for x-ms-throttle-limit-percentage (only sent above 0.8). */
  limitFraction: number;
  /** The request came before the Retry-After this app+tenant was last given. */
  early: boolean;
}

/** Per app+tenant fixed-window budget (Microsoft describes a token bucket; a fixed window gives the same limits). */
export class ThrottleBudget {
  config: ThrottleConfig = structuredClone(DEFAULT_THROTTLE);
  readonly tenantOverrides = new Map<string, Partial<ThrottleConfig>>();
  private buckets = new Map<string, BucketState>();
  readonly earlyRetries: EarlyRetry[] = [];

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
        retryAfterUntil: 0,
      };
      this.buckets.set(key, b);
    }
    return b;
  }

  check(
    req: { tenantId: string; appId: string; size: TenantSize; ru: number; write: boolean; method: string; url: string },
    now = Date.now(),
  ): ThrottleDecision {
    const cfg = this.configFor(req.tenantId);
    const b = this.bucket(req.tenantId, req.appId, now);
    b.usage.requests++;
    const early = now < b.retryAfterUntil;
    if (early) {
      b.usage.earlyRetries++;
      this.earlyRetries.push({
        at: new Date(now).toISOString(),
        tenantId: req.tenantId,
        appId: req.appId,
        method: req.method,
        url: req.url,
        earlyByMs: b.retryAfterUntil - now,
      });
      if (this.earlyRetries.length > 10_000) this.earlyRetries.shift();
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
    if (cfg.enabled) {
      let until = 0;
      let information: ThrottleDecision['information'];
      if (b.ruUsed + req.ru > limit) {
        until = b.ruWindowStart + cfg.windowMs;
        information = 'ResourceUnitLimitExceeded';
      } else if (req.write && b.writesUsed + 1 > cfg.writeLimit) {
        until = b.writeWindowStart + cfg.writeWindowMs;
        information = 'WriteLimitExceeded';
      }
      if (information) {
        b.usage.throttled++;
        const waitMs = Math.max(until - now, 1);
        b.retryAfterUntil = now + waitMs;
        return {
          allowed: false,
          retryAfterSeconds: Math.ceil(waitMs) / 1000,
          information,
          scope: `Tenant_Application/${scopeLimit}/${req.appId}/${req.tenantId}`,
          limitFraction: (b.ruUsed + req.ru) / limit,
          early,
        };
      }
    }
    b.ruUsed += req.ru;
    b.usage.resourceUnits += req.ru;
    if (req.write) {
      b.writesUsed++;
      b.usage.writes++;
    }
    return { allowed: true, limitFraction: b.ruUsed / limit, early };
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
    this.earlyRetries.length = 0;
  }
}
