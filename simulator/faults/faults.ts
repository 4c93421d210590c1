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
  /**
   * Added per object a Graph response returns (the items of `value`; 1 for a single object): Graph's time grows with
   * what a page holds (README, "Latency and paging models"). 0 by default.
   */
  perObjectMs?: number;
  /**
   * Most objects one list page returns, per entity set path (`users`), whatever `$top` asks: Graph capped `/users`
   * pages at 120 for a while in 2023 (README). No cap by default.
   */
  pageCaps?: Record<string, number>;
  /** Objects per delta page (default 200, as Graph's pages of users and groups hold about 200). */
  deltaPageSize?: number;
  /** Entity set paths whose delta pages hold fewer objects, seeded between 1 and `deltaPageSize` (groups in the field). */
  shrinkingDeltaPages?: string[];
  /** A name the benchmark prints (e.g. `field`). */
  name?: string;
}

/**
 * Graph's timing and paging as observed in the field (README, "Latency and paging models"): 150 ms + 1 ms per object
 * returned + up to 50 ms, so a page of 999 users takes about 1.15 s; delta pages of at most 200 objects, groups' often
 * far fewer. An assumption from public reports, not a measurement: the benchmark prints the model it ran.
 */
export const FIELD_LATENCY: LatencyModel = {
  name: 'field',
  baseMs: 150,
  jitterMs: 50,
  perObjectMs: 1,
  deltaPageSize: 200,
  shrinkingDeltaPages: ['groups'],
};

/** A latency model `factor` times slower (paging unchanged). */
export function scaledLatency(model: LatencyModel, factor: number): LatencyModel {
  return {
    ...model,
    name: factor === 1 ? model.name : `${model.name ?? 'flat'}×${factor}`,
    baseMs: model.baseMs * factor,
    jitterMs: model.jitterMs * factor,
    perObjectMs: (model.perObjectMs ?? 0) * factor,
  };
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

  /** Modelled response time of a request that returns `objects` objects. */
  delayMs(objects = 0): number {
    const { baseMs, jitterMs, perObjectMs = 0 } = this.latency;
    return baseMs + perObjectMs * objects + (jitterMs > 0 ? this.random.next() * jitterMs : 0);
  }

  /** Most objects a list page of `setPath` returns, whatever `$top` asks. */
  pageCap(setPath: string): number | undefined {
    return this.latency.pageCaps?.[setPath];
  }

  /**
   * Objects on the delta page of `setPath` starting at `offset` of the round `roundKey`: the same for the same seed,
   * round and offset, so a page asked for again (a resumed reader) is the same page.
   */
  deltaPageSize(setPath: string, roundKey: string, offset: number): number {
    const size = Math.max(1, this.latency.deltaPageSize ?? 200);
    if (!this.latency.shrinkingDeltaPages?.includes(setPath)) return size;
    let h = this.seed ^ 0x2545f491;
    for (const ch of `${roundKey}:${offset}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    return 1 + Math.floor(new Random(h).next() * size);
  }
}
