import { LruCache, perTenantCacheLimits } from '../lru-cache';
import {
  RESOURCE_UNITS_PER_WINDOW,
  RESOURCE_UNIT_WINDOW_MS,
  type TenantSizeClass,
} from '../../microsoft/graph-throttle-limits';

/**
 * Pacing to the app+tenant resource-unit budget of "Identity and access service limits"
 * (https://learn.microsoft.com/en-us/graph/throttling-limits: S 3,500 / M 5,000 / L 8,000 RU
 * per 10 s by tenant size). We do not know the size class, and other worker processes may share the budget, so the
 * budget is an estimate adapted AIMD-style:
 * - multiplicative decrease on a 429 (at most once per half window: one exhausted window throttles many requests);
 * - `x-ms-throttle-limit-percentage` p (sent only above 0.8 of the limit,
 * https://learn.microsoft.com/en-us/graph/throttling-limits) together with the RU this process saw
 *   Graph charge in the last window U gives the limit directly, L ≈ U / p; the budget is lowered to it at once, which
 *   takes a small tenant from the default L to S within its first window instead of after a run of 429s;
 * - additive increase for every window in which requests queued here and Graph sent no p and no 429 (we are below
 *   0.8 of the real limit while wanting more).
 * Requests are released at targetUtilisation × budget per window with a small burst, so a fixed-window or
 * token-bucket limiter sees at most (target + burst) × budget in any window.
 *
 * Near the limit the number of requests in flight is bounded as well: with p known, the in-flight estimate may not
 * exceed the remaining (1 − p) × budget; after a 429 only one request at a time is sent until Graph answers without
 * throttling. Requests in flight when Graph starts throttling would otherwise all arrive inside the Retry-After.
 *
 * Next pages go first. A page link can only be followed once the page before it is in, so the longest chains (the
 * user listing, the member list of an all-users group: a hundred pages each in a large tenant) set the length of a
 * backup; requests that can be sent in any order ($batch of first pages) fill the rest of the budget behind them.
 * FIFO would make every step of a chain wait behind the whole queue of parallel requests.
 */
export interface PacerOptions {
  /** Microsoft's window: 10 s. */
  windowMs: number;
  /** Starting budget, RU per window. Default 8,000 (size L, the largest). */
  initialBudget: number;
  /** Floor of the estimate. */
  minBudget: number;
  /** Ceiling of the estimate. */
  maxBudget: number;
  /** Share of the budget released per window. */
  targetUtilisation: number;
  /** Tokens that may accumulate while idle, as a share of the budget. */
  burstFraction: number;
  /** Budget × this on a 429. */
  decreaseFactor: number;
  /** Budget + this × maxBudget after a window that wanted more and saw no pressure. */
  increaseFraction: number;
}

export const DEFAULT_PACER_OPTIONS: PacerOptions = {
  windowMs: RESOURCE_UNIT_WINDOW_MS,
  initialBudget: RESOURCE_UNITS_PER_WINDOW.L,
  minBudget: 500,
  maxBudget: RESOURCE_UNITS_PER_WINDOW.L,
  targetUtilisation: 0.95,
  burstFraction: 0.05,
  decreaseFactor: 0.7,
  increaseFraction: 0.05,
};

export interface PacerTicket {
  readonly cost: number;
  /** When the request was released, for the sliding window of charged RU. */
  readonly releasedAt: number;
}

/** What a response told us. `limitPercentage: null` means a Graph answer without the header (below 0.8). */
export interface PacerObservation {
  resourceUnits?: number;
  limitPercentage?: number | null;
}

/** `chain`: a next page of a sequential read (on the critical path); `bulk`: anything that can wait its turn. */
export type PacerPriority = 'chain' | 'bulk';

interface Waiter {
  cost: number;
  queuedAt: number;
  resolve: (ticket: PacerTicket) => void;
}

export interface PacerState {
  budget: number;
  tokens: number;
  inFlight: number;
  inFlightRu: number;
  queued: number;
  lastLimitPercentage: number | undefined;
  limitEstimate: number | undefined;
  /** RU Graph charged in the last window (this process). */
  windowRu: number;
}

export class Pacer {
  readonly options: PacerOptions;
  private budget: number;
  private tokens: number;
  private refilledAt: number;
  /** Next pages of sequential reads: served before `bulk`. Each chain has at most one request waiting. */
  private readonly chains: Waiter[] = [];
  private readonly bulk: Waiter[] = [];
  private inFlight = 0;
  private inFlightRu = 0;
  /** p of the latest Graph answer; 1 after a 429 until an answer says otherwise. */
  private lastLimitPercentage: number | undefined;
  /** U / p of the latest answer with p: the limit as Graph's own percentage implies it. */
  private limitEstimate: number | undefined;
  private readonly charged: Array<{ at: number; ru: number }> = [];
  private chargedSum = 0;
  private lastDecreaseAt = -Infinity;
  private periodStart: number;
  private periodPressure = false;
  private periodQueued = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: Partial<PacerOptions> = {}, now = Date.now()) {
    this.options = { ...DEFAULT_PACER_OPTIONS, ...options };
    this.budget = this.clamp(this.options.initialBudget);
    this.tokens = this.capacity();
    this.refilledAt = now;
    this.periodStart = now;
  }

  state(now = Date.now()): PacerState {
    this.refill(now);
    return {
      budget: this.budget,
      tokens: this.tokens,
      inFlight: this.inFlight,
      inFlightRu: this.inFlightRu,
      queued: this.chains.length + this.bulk.length,
      lastLimitPercentage: this.lastLimitPercentage,
      limitEstimate: this.limitEstimate,
      windowRu: this.windowRu(now),
    };
  }

  /**
   * Microsoft's size class (S/M/L) whose budget is nearest below the limit as this pacer knows it (Graph's own
   * percentage when it sent one, else the adapted budget): a label for metrics, never used for pacing.
   */
  sizeClass(): TenantSizeClass {
    const limit = this.limitEstimate ?? this.budget;
    if (limit < (RESOURCE_UNITS_PER_WINDOW.S + RESOURCE_UNITS_PER_WINDOW.M) / 2) return 'S';
    if (limit < (RESOURCE_UNITS_PER_WINDOW.M + RESOURCE_UNITS_PER_WINDOW.L) / 2) return 'M';
    return 'L';
  }

  /** Waits until a request of this estimated cost may be sent (next pages first, else FIFO), and charges it. */
  acquire(cost: number, priority: PacerPriority = 'bulk'): Promise<PacerTicket> {
    return new Promise((resolve) => {
      (priority === 'chain' ? this.chains : this.bulk).push({ cost: Math.max(1, cost), queuedAt: Date.now(), resolve });
      this.pump();
    });
  }

  /** The request is answered (or failed); corrects its charge with what Graph reported. */
  release(ticket: PacerTicket, observation: PacerObservation = {}, now = Date.now()): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.inFlightRu = Math.max(0, this.inFlightRu - ticket.cost);
    const actual = observation.resourceUnits ?? ticket.cost;
    this.tokens -= actual - ticket.cost;
    this.charge(actual, now);
    if (observation.limitPercentage !== undefined) this.observeLimitPercentage(observation.limitPercentage, now);
    this.pump(now);
  }

  /** Adds to a released request's charge (a `$batch`, whose RU are only known from its inner answers). */
  correct(deltaRu: number, now = Date.now()): void {
    this.tokens -= deltaRu;
    if (deltaRu !== 0) this.charge(deltaRu, now);
    this.pump(now);
  }

  /** `x-ms-throttle-limit-percentage` of a Graph answer, null when the answer had none. */
  observeLimitPercentage(p: number | null, now = Date.now()): void {
    if (p === null) {
      this.lastLimitPercentage = undefined;
      return;
    }
    this.lastLimitPercentage = p;
    this.periodPressure = true;
    if (p > 1) this.decrease(now);
    const used = this.windowRu(now);
    if (used <= 0) return;
    // p is rounded to one decimal by Graph's samples; only act on a clear mismatch, and only downwards: the
    // sliding window can straddle Graph's, which makes the estimate too high, never too low (from our own usage).
    const limit = used / p;
    this.limitEstimate = limit;
    if (limit < 0.9 * this.budget) this.setBudget(limit, now);
  }

  /**
   * Most RU one `$batch` should carry now. Graph runs a batch's requests back to back and throttles each on its own
   * (https://learn.microsoft.com/en-us/graph/json-batching): a batch larger than what the limit has left gets 429s for
   * its tail, all of them inside the
   * Retry-After of the first. With p known, (1 − p) of the limit is left; without it, at least 0.2
   * (https://learn.microsoft.com/en-us/graph/throttling-limits).
   */
  batchAllowance(): number {
    const limit = Math.min(this.budget, this.limitEstimate ?? Infinity);
    const left = this.lastLimitPercentage === undefined ? 0.2 : Math.max(0, 1 - this.lastLimitPercentage);
    return left * limit;
  }

  /** A 429 (or a 503/504 with Retry-After): Graph is over the limit until retryAfterMs from now. */
  throttled(retryAfterMs: number, now = Date.now()): void {
    this.lastLimitPercentage = Math.max(1, this.lastLimitPercentage ?? 1);
    this.periodPressure = true;
    this.decrease(now);
    // Nothing accumulates while the gate is closed: the first window after it must not start with a burst.
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
    this.refilledAt = Math.max(this.refilledAt, now + retryAfterMs);
  }

  private decrease(now: number): void {
    if (now - this.lastDecreaseAt < this.options.windowMs / 2) return;
    this.lastDecreaseAt = now;
    this.setBudget(this.budget * this.options.decreaseFactor, now);
  }

  private setBudget(value: number, now: number): void {
    this.refill(now);
    this.budget = this.clamp(value);
    this.tokens = Math.min(this.tokens, this.capacity());
  }

  private clamp(value: number): number {
    return Math.min(this.options.maxBudget, Math.max(this.options.minBudget, value));
  }

  private capacity(): number {
    return this.budget * this.options.burstFraction;
  }

  /** RU per ms released. */
  private rate(): number {
    return (this.budget * this.options.targetUtilisation) / this.options.windowMs;
  }

  private refill(now: number): void {
    if (now <= this.refilledAt) return;
    this.tokens = Math.min(this.capacity(), this.tokens + (now - this.refilledAt) * this.rate());
    this.refilledAt = now;
  }

  private charge(ru: number, now: number): void {
    this.charged.push({ at: now, ru });
    this.chargedSum += ru;
  }

  private windowRu(now: number): number {
    while (this.charged.length > 0 && this.charged[0].at <= now - this.options.windowMs) {
      this.chargedSum -= (this.charged.shift() as { ru: number }).ru;
    }
    return this.chargedSum;
  }

  private headroom(): number {
    if (this.lastLimitPercentage === undefined) return Infinity;
    return Math.max(0, 1 - this.lastLimitPercentage) * Math.min(this.budget, this.limitEstimate ?? Infinity);
  }

  private endPeriod(now: number): void {
    if (now - this.periodStart < this.options.windowMs) return;
    if (this.periodQueued && !this.periodPressure) {
      this.setBudget(this.budget + this.options.increaseFraction * this.options.maxBudget, now);
    }
    this.periodStart = now;
    this.periodQueued = false;
    this.periodPressure = false;
  }

  private pump(now = Date.now()): void {
    this.endPeriod(now);
    this.refill(now);
    for (;;) {
      const queue = this.chains.length > 0 ? this.chains : this.bulk;
      const head = queue[0];
      if (!head) return;
      const fitsInFlight = this.inFlight === 0 || this.inFlightRu + head.cost <= this.headroom();
      if (!fitsInFlight) return; // a release will pump again
      const needed = Math.min(head.cost, this.capacity());
      if (this.tokens < needed) {
        this.periodQueued = true;
        const waitMs = Math.max(
          1,
          (this.refilledAt > now ? this.refilledAt - now : 0) + (needed - this.tokens) / this.rate(),
        );
        this.schedule(waitMs);
        return;
      }
      queue.shift();
      this.tokens -= head.cost;
      this.inFlight++;
      this.inFlightRu += head.cost;
      head.resolve({ cost: head.cost, releasedAt: now });
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(ms));
  }
}

/** Process-wide pacers keyed by (app client id, tenant): every activity of a tenant in this worker shares one. */
export class PacerRegistry {
  // Bounded: an idle pacer is forgotten once many other tenants were paced since (it starts afresh if needed again).
  private readonly pacers = new LruCache<string, Pacer>(perTenantCacheLimits.pacers, (pacer) => {
    const { inFlight, queued } = pacer.state();
    return inFlight === 0 && queued === 0;
  });

  /** Options apply when the pacer is created; later callers share the existing one. */
  get(appClientId: string, tenant: string, options: Partial<PacerOptions> = {}): Pacer {
    const key = `${appClientId.toLowerCase()}/${tenant.toLowerCase()}`;
    return this.pacers.getOrCreate(key, () => new Pacer(options));
  }
}

export const pacers = new PacerRegistry();
