import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphStats } from './graph-stats';
import { requestMethod, requestUrl, requireNext } from './middleware-util';
import type { Pacer, PacerObservation, PacerPriority } from './pacer';
import {
  estimateBatchResourceUnits,
  estimateResourceUnits,
  isBatchUrl,
  readLimitPercentage,
  readResourceUnits,
} from './resource-units';

/** Estimated RU of the request in this context; a `$batch` is the sum of its requests. */
export function estimateContextCost(context: Context): number {
  const url = requestUrl(context);
  const method = requestMethod(context);
  if (method === 'POST' && isBatchUrl(url)) return estimateBatchResourceUnits(context.options?.body);
  return estimateResourceUnits(method, url);
}

/**
 * On the critical path (`chain`): a GET of a page link (`$skiptoken`, or a delta round's next/delta link), and a
 * `startswith` partition's count or first page. A listing is partitioned because its chain of pages would bound the
 * backup, and it cannot start before its plan's counts are in: behind the relationship batches (bulk) they waited
 * until the budget drained, so at 100,000 users under the field latency model the users listing began ~25 s in and
 * ended 13 s after the budget went idle (39 s against a 24 s throttle bound). The rest is bulk.
 */
export function pacerPriority(context: Context): PacerPriority {
  if (requestMethod(context) !== 'GET') return 'bulk';
  const url = requestUrl(context);
  return /[?&](\$|%24)(skiptoken|deltatoken)=/i.test(url) || /[?&](\$|%24)filter=[^&]*startswith(\(|%28)/i.test(url)
    ? 'chain'
    : 'bulk';
}

/**
 * Holds each request until the tenant's pacer releases it, then tells the pacer what Graph charged. Above the
 * Retry-After handler: a request retried after a 429 keeps its ticket (Graph does not charge throttled requests).
 */
export class PacingHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly pacer: Pacer,
    private readonly stats: GraphStats,
  ) {}

  async execute(context: Context): Promise<void> {
    const next = requireNext(this.next, 'PacingHandler');
    const started = performance.now();
    const ticket = await this.pacer.acquire(estimateContextCost(context), pacerPriority(context));
    this.stats.pacingWaitMs += performance.now() - started;
    const observation: PacerObservation = {};
    try {
      await next.execute(context);
      const response = context.response;
      const get = (n: string) => response?.headers.get(n);
      observation.resourceUnits = readResourceUnits(get);
      // Only a Graph answer that carries x-ms-resource-unit says something by lacking the percentage header
      // (an outer $batch answer carries neither; TenantGraph reports its inner answers).
      if (observation.resourceUnits !== undefined) observation.limitPercentage = readLimitPercentage(get) ?? null;
    } finally {
      this.pacer.release(ticket, observation);
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
