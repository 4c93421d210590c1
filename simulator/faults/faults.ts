import { Random } from '../util/random';

/**
 * Faults injected into Graph requests (after the access token is validated, before throttling).
 * - status: answer with a 5xx (500/502/503/504) and Graph's error body; 503/504 may carry Retry-After.
 * - throttle: answer 429 TooManyRequests with Retry-After (`retryAfterSeconds`, default 1), as the budget would; a
 *   request before it is over counts as an early retry in `usage()`.
 * - reset: destroy the TCP connection without an answer (client sees ECONNRESET / "fetch failed").
 * - tokenExpiry: every access token issued so far in the tenant stops being valid (401 InvalidAuthenticationToken).
 * - revokeConsent: the app's consent in the tenant is revoked (mode 'assignments' -> 403 on Graph,
 *   'servicePrincipal' -> next token request fails with AADSTS7000229); the triggering request already sees it.
 * - replicationDelay: the request succeeds, but an object it creates (201 with an id) is not yet on the replica the
 *   next `lagRequests` requests naming its id reach: they answer 404 Request_ResourceNotFound (eventual consistency,
 *   https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
 * - ignoreProperty: the write succeeds (2xx) but `property` is silently not stored, so only reading it back tells.
 * A rule fires on the matching request after `afterRequests` matching ones, and/or with `probability` drawn from
 * the simulator's seeded generator, at most `times` times (default: 1 with afterRequests, unlimited otherwise).
 */
export type FaultKind =
  'status' | 'reset' | 'tokenExpiry' | 'revokeConsent' | 'replicationDelay' | 'ignoreProperty' | 'throttle';

export interface FaultRule {
  kind: FaultKind;
  status?: 500 | 502 | 503 | 504;
  retryAfterSeconds?: number;
  probability?: number;
  afterRequests?: number;
  times?: number;
  tenantId?: string;
  appId?: string;
  method?: string;
  /** Graph path prefix after /v1.0, e.g. "/users". */
  pathPrefix?: string;
  revokeMode?: 'assignments' | 'servicePrincipal';
  /** replicationDelay: how many later requests naming the created object answer 404 (default 2). */
  lagRequests?: number;
  /** ignoreProperty: the body property dropped. */
  property?: string;
}

export interface LatencyModel {
  /** Fixed delay added to every Graph and token response. */
  baseMs: number;
  /** Additional uniformly distributed delay in [0, jitterMs), drawn from the seeded generator. */
  jitterMs: number;
}

interface RuleState {
  rule: FaultRule;
  seen: number;
  fired: number;
}

export interface FaultStatus {
  rule: FaultRule;
  matched: number;
  fired: number;
}

export class FaultInjector {
  private rules: RuleState[] = [];
  latency: LatencyModel = { baseMs: 0, jitterMs: 0 };
  private random: Random;

  constructor(private seed: number) {
    this.random = new Random(seed ^ 0x5eed);
  }

  set(rules: FaultRule[], seed?: number): void {
    if (seed !== undefined) this.seed = seed;
    this.random = new Random(this.seed ^ 0x5eed);
    this.rules = rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
  }

  add(rule: FaultRule): void {
    this.rules.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  status(): FaultStatus[] {
    return this.rules.map((r) => ({ rule: r.rule, matched: r.seen, fired: r.fired }));
  }

  /** Decides the fault (if any) for one request; deterministic given the seed and the request order. */
  pick(req: { tenantId: string; appId: string; method: string; path: string }): FaultRule | undefined {
    for (const st of this.rules) {
      const r = st.rule;
      if (r.tenantId && r.tenantId !== req.tenantId) continue;
      if (r.appId && r.appId !== req.appId) continue;
      if (r.method && r.method.toUpperCase() !== req.method) continue;
      if (r.pathPrefix && !req.path.startsWith(r.pathPrefix)) continue;
      st.seen++;
      const limit = r.times ?? (r.afterRequests !== undefined ? 1 : Infinity);
      if (st.fired >= limit) continue;
      if (r.afterRequests !== undefined && st.seen <= r.afterRequests) continue;
      if (r.probability !== undefined && !(this.random.next() < r.probability)) continue;
      st.fired++;
      return r;
    }
    return undefined;
  }

  delayMs(): number {
    const { baseMs, jitterMs } = this.latency;
    return baseMs + (jitterMs > 0 ? this.random.next() * jitterMs : 0);
  }
}
