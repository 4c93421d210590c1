import { GraphClientError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphStats } from './graph-stats';
import { discardBody, requestMethod, requestUrl, requireNext, sleep } from './middleware-util';
import { isBatchUrl } from './resource-units';

export interface TransientRetryOptions {
  /** Retries after the first attempt. Default 3. */
  maxRetries: number;
  /** First backoff; doubles per retry, with ±50 % jitter. Default 500 ms. */
  baseDelayMs: number;
}

export const DEFAULT_TRANSIENT_RETRY_OPTIONS: TransientRetryOptions = { maxRetries: 3, baseDelayMs: 500 };

const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/**
 * Retries what a moment later usually succeeds: 5xx answers (503/504 with a Retry-After are the Retry-After
 * handler's) and requests that never got an answer (reset connection, timeout). Only reads are retried: a GET, or
 * a $batch, which this layer only sends with GETs inside. Writes are not idempotent
 * (https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/middleware/RetryHandler.ts notes
 * graph-client's RetryHandler retries JSON POSTs, risking duplicate creates); they go back to the caller.
 * After the last retry the answer or error goes back to the caller, where it is a retryable activity failure.
 */
export class TransientRetryHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly stats: GraphStats,
    private readonly options: TransientRetryOptions = DEFAULT_TRANSIENT_RETRY_OPTIONS,
  ) {}

  async execute(context: Context): Promise<void> {
    const next = requireNext(this.next, 'TransientRetryHandler');
    const method = requestMethod(context);
    const retryable = method === 'GET' || (method === 'POST' && isBatchUrl(requestUrl(context)));
    for (let retry = 0; ; retry++) {
      const last = !retryable || retry >= this.options.maxRetries;
      try {
        await next.execute(context);
      } catch (err) {
        // Our own decisions (GraphThrottledError) are final; only transport failures are retried here.
        if (last || err instanceof GraphClientError) throw err;
        await this.backoff(retry);
        continue;
      }
      const response = context.response;
      if (last || !response || !TRANSIENT_STATUSES.has(response.status) || response.headers.has('retry-after')) {
        return;
      }
      await discardBody(response);
      await this.backoff(retry);
    }
  }

  private async backoff(retry: number): Promise<void> {
    this.stats.transientRetries++;
    await sleep(this.options.baseDelayMs * 2 ** retry * (0.5 + Math.random()));
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
