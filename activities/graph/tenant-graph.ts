import { GraphError, ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import type { EntraApp } from '../../tenants/types';
import type { EntraConfig } from '../../temporal.config';
import { DeltaTokenExpiredError, TokenAcquisitionError, isDeltaReset } from './graph-failure';
import type { GraphStats, GraphStatsSnapshot } from './graph-stats';
import type { Pacer } from './pacer';
import {
  estimateBatchResourceUnits,
  estimateResourceUnits,
  readLimitPercentage,
  readResourceUnits,
  splitGraphUrl,
} from './resource-units';
import {
  GraphThrottledError,
  parseRetryAfter,
  throttleScope,
  type RetryAfterGate,
  type RetryAfterOptions,
} from './retry-after';
import { createThrottledGraphClient, type ThrottleOptions, type ThrottledGraphClient } from './throttled-graph-client';
import type { TokenProvider } from './token-provider';
import { inSpan } from '../../observability/tracing';

export interface PageOptions {
  /** An advanced query: sent with `ConsistencyLevel: eventual`. */
  advanced?: boolean;
}

/** One page of a collection, delta round or relationship. */
export interface GraphPage<T> {
  value: T[];
  /**
   * Absolute URL of the next page, used as is (https://learn.microsoft.com/en-us/graph/paging,
   * https://learn.microsoft.com/en-us/graph/api/user-delta?view=graph-rest-1.0); save it to resume.
   */
  nextLink?: string;
  /** On the last page of a delta round: where the next round starts. */
  deltaLink?: string;
}

/** The answer to one url of `batchGet`, in the order the urls were given. */
export interface BatchGetResult<T> {
  url: string;
  status: number;
  /** The JSON body of a 2xx answer (a collection page keeps its `@odata.nextLink`). */
  body?: T;
  /** Graph's `error` of a non-2xx answer (e.g. 403 Authorization_RequestDenied, 404 Request_ResourceNotFound). */
  error?: { code?: string; message?: string };
}

/**
 * Graph documents 20 requests per JSON batch (https://learn.microsoft.com/en-us/graph/json-batching;
 * BatchRequestContent.requestLimit,
 * https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/content/BatchRequestContent.ts).
 */
export const BATCH_LIMIT = 20;

interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const TRANSIENT = new Set([500, 502, 503, 504]);

/**
 * Throttle-aware reads of one directory with one of our apps: what a capture activity uses. Requests go through
 * graph-client with the middleware chain of createThrottledGraphClient, so they share the (app, tenant) pacer and
 * Retry-After gate with every other TenantGraph of the pair in this process.
 */
export class TenantGraph {
  constructor(private readonly graph: ThrottledGraphClient) {}

  static forApp(
    entra: EntraConfig,
    tokens: TokenProvider,
    app: EntraApp,
    directory: string,
    options: ThrottleOptions = {},
  ): TenantGraph {
    const appClientId = (app === 'backup' ? entra.backupApp : entra.restoreApp).clientId ?? app;
    return new TenantGraph(
      createThrottledGraphClient(
        entra,
        {
          appClientId,
          tenant: directory,
          getAccessToken: async () => (await tokens.acquire(app, directory)).accessToken,
          refreshAccessToken: async () => (await tokens.acquire(app, directory, true)).accessToken,
        },
        options,
      ),
    );
  }

  /** Counters of this TenantGraph's requests (not of the shared pacer's other users). */
  get stats(): GraphStatsSnapshot {
    return this.graph.stats.snapshot();
  }

  get pacer(): Pacer {
    return this.graph.pacer;
  }

  get client(): Client {
    return this.graph.client;
  }

  /**
   * Pages of a collection, a delta round or a relationship, from `url` (a first-page URL, or a saved next link to
   * resume from) following `@odata.nextLink` until Graph sends none. A singleton comes back as one page of one.
   * An expired delta or next link of a delta round throws DeltaTokenExpiredError. An `advanced` query (`$count=true`
   * in the URL) also needs `ConsistencyLevel: eventual` on every page (https://learn.microsoft.com/graph/aad-advanced-queries).
   */
  async *pages<T = Record<string, unknown>>(url: string, options: PageOptions = {}): AsyncGenerator<GraphPage<T>> {
    let next: string | undefined = url;
    while (next !== undefined) {
      const current: string = next;
      const body = await this.get<Record<string, unknown>>(current, options).catch((err: unknown) => {
        throw deltaExpiry(err, current) ?? err;
      });
      const page = toPage<T>(body);
      yield page;
      next = page.nextLink;
    }
  }

  /**
   * One page of a collection or delta round as Graph sent it, its JSON unparsed, for a caller that parses it
   * elsewhere (a worker thread). Failures are the ones `pages` throws.
   */
  async pageBytes(url: string): Promise<Uint8Array> {
    try {
      const response = await this.call(
        () => this.graph.client.api(url).responseType(ResponseType.RAW).get() as Promise<Response>,
      );
      if (!response.ok) throw await graphErrorOf(response);
      return new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw deltaExpiry(err, url) ?? err;
    }
  }

  /**
   * The number `url` (`/{set}/$count`, with any `$filter`) answers. Directory objects count only in advanced queries,
   * hence `ConsistencyLevel: eventual` (https://learn.microsoft.com/graph/aad-advanced-queries): the count may lag
   * changes by a little.
   */
  async count(url: string): Promise<number> {
    const response = await this.call(
      () =>
        this.graph.client
          .api(url)
          .header('ConsistencyLevel', 'eventual')
          .responseType(ResponseType.RAW)
          .get() as Promise<Response>,
    );
    if (!response.ok) throw await graphErrorOf(response);
    const text = (await response.text()).trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`Graph answered ${url} with '${text}'`);
    return n;
  }

  /** Every item of a (usually small) collection or relationship, all pages. */
  async readAll<T = Record<string, unknown>>(url: string): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.pages<T>(url)) items.push(...page.value);
    return items;
  }

  /**
   * GETs many URLs (e.g. the members of many groups) through `$batch`, 20 per request. Graph throttles each inner
   * request on its own and SDKs do not retry them (https://learn.microsoft.com/en-us/graph/json-batching), so inner
   * 429s close the shared gate and are
   * sent again in a later batch; inner 5xx are retried a few times; anything else is reported per url.
   */
  async batchGet<T = Record<string, unknown>>(urls: readonly string[]): Promise<BatchGetResult<T>[]> {
    const results: BatchGetResult<T>[] = new Array<BatchGetResult<T>>(urls.length);
    const retryAfter: RetryAfterOptions = this.graph.retryAfter;
    const gate: RetryAfterGate = this.graph.gate;
    const queue = urls.map((_, i) => i);
    const transientTries = new Map<number, number>();
    let throttledRounds = 0;
    while (queue.length > 0) {
      const take = this.nextBatch(urls, queue);
      const payload = { requests: take.map((i) => ({ id: String(i), method: 'GET', url: this.relativeUrl(urls[i]) })) };
      const { responses, throttledMs, scope, retry } = await inSpan(
        'graph.batch',
        { 'graph.batch.requests': take.length },
        async (span) => {
          const answer = await this.call(() => this.graph.client.api('/$batch').post(payload));
          const responses = ((answer as { responses?: BatchResponseItem[] } | undefined)?.responses ?? []).filter(
            (r) => typeof r?.id === 'string',
          );
          const accounted = this.account(estimateBatchResourceUnits(payload), responses);
          span.setAttribute('graph.batch.retried', accounted.retry.size);
          return { responses, ...accounted };
        },
      );
      const byId = new Map(responses.map((r) => [r.id, r]));
      const again: number[] = [];
      for (const i of take) {
        const r = byId.get(String(i));
        // Asked again: throttled, a 5xx, or left out of the answer (Graph must answer each; be safe).
        if (!r || retry.has(r.id)) {
          const tries = (transientTries.get(i) ?? 0) + (r && r.status === 429 ? 0 : 1);
          transientTries.set(i, tries);
          if (tries <= 3) {
            again.push(i);
            continue;
          }
        }
        results[i] = toResult<T>(urls[i], r);
      }
      queue.unshift(...again);
      if (throttledMs !== undefined) {
        // The next batch goes through RetryAfterHandler, which waits for this (or throws GraphThrottledError).
        gate.closeUntil(Date.now() + throttledMs + retryAfter.marginMs, scope);
        this.graph.pacer.throttled(throttledMs);
        if (++throttledRounds >= retryAfter.maxAttempts) throw new GraphThrottledError(gate.remainingMs());
      }
    }
    return results;
  }

  /** Takes from the queue up to 20 requests whose estimate fits what the limit has left (at least one). */
  private nextBatch(urls: readonly string[], queue: number[]): number[] {
    const allowance = this.graph.pacer.batchAllowance();
    const take: number[] = [];
    let cost = 0;
    while (queue.length > 0 && take.length < BATCH_LIMIT) {
      const next = estimateResourceUnits('GET', urls[queue[0]]);
      if (take.length > 0 && cost + next > allowance) break;
      cost += next;
      take.push(queue.shift() as number);
    }
    return take;
  }

  /** Stats and pacer bookkeeping of one batch answer; which requests to send again and how long to wait first. */
  private account(
    estimate: number,
    responses: BatchResponseItem[],
  ): { throttledMs: number | undefined; scope: 'tenant' | 'application'; retry: Set<string> } {
    const stats: GraphStats = this.graph.stats;
    let ru = 0;
    let percentage: number | null | undefined;
    let throttledMs: number | undefined;
    let scope: 'tenant' | 'application' = 'tenant';
    const retry = new Set<string>();
    for (const r of responses) {
      const get = (name: string) => headerOf(r.headers, name);
      const units = readResourceUnits(get);
      ru += units ?? 0;
      const p = readLimitPercentage(get);
      if (p !== undefined) percentage = Math.max(percentage ?? 0, p);
      else if (units !== undefined && percentage === undefined) percentage = null;
      const ra = parseRetryAfter(get('retry-after'));
      if (r.status === 429 || ((r.status === 503 || r.status === 504) && ra !== undefined)) {
        if (r.status === 429) stats.throttled++;
        if (throttleScope(get('x-ms-throttle-scope')) === 'application') scope = 'application';
        throttledMs = Math.max(throttledMs ?? 0, ra ?? this.graph.retryAfter.fallbackDelayMs);
        retry.add(r.id);
      } else if (TRANSIENT.has(r.status)) {
        retry.add(r.id);
      }
    }
    stats.resourceUnits += ru;
    this.graph.pacer.correct(ru - estimate);
    if (percentage !== undefined) this.graph.pacer.observeLimitPercentage(percentage);
    return { throttledMs, scope, retry };
  }

  /** Inner batch URLs are relative to the version root (https://learn.microsoft.com/en-us/graph/json-batching). */
  private relativeUrl(url: string): string {
    const root = this.graph.graphRoot;
    if (url.startsWith(`${root}/`)) return url.slice(root.length);
    if (/^https?:\/\//i.test(url)) {
      const parsed = new URL(url);
      return `/${splitGraphUrl(url).path}${parsed.search}`;
    }
    return url.startsWith('/') ? url : `/${url}`;
  }

  private get<T>(url: string, options: PageOptions = {}): Promise<T> {
    return this.call(() => {
      const request = this.graph.client.api(url);
      return (options.advanced ? request.header('ConsistencyLevel', 'eventual') : request).get() as Promise<T>;
    });
  }

  /** Hands the ApplicationFailure of a failed token acquisition (ConsentRevoked, …) back as it is. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TokenAcquisitionError) throw err.failure;
      throw err;
    }
  }
}

/** A 410 (or resync answer) for a delta link or a delta round's next link: the round must start over. */
function deltaExpiry(err: unknown, url: string): DeltaTokenExpiredError | undefined {
  if (!isDeltaReset(err) || !isDeltaUrl(url)) return undefined;
  return new DeltaTokenExpiredError(url, err.headers?.get('location') ?? undefined, err.code ?? undefined);
}

/** The GraphError graph-client builds for a failed answer (GraphErrorHandler), for answers read raw. */
async function graphErrorOf(response: Response): Promise<GraphError> {
  const body = (await response.json().catch(() => undefined)) as
    { error?: { code?: string; message?: string; innerError?: { 'request-id'?: string; date?: string } } } | undefined;
  const error = new GraphError(response.status, body?.error?.message);
  error.code = body?.error?.code ?? null;
  if (body?.error?.innerError) {
    error.requestId = body.error.innerError['request-id'] ?? null;
    if (body.error.innerError.date) error.date = new Date(body.error.innerError.date);
  }
  error.body = JSON.stringify(body?.error ?? body ?? null);
  error.headers = response.headers;
  return error;
}

function isDeltaUrl(url: string): boolean {
  const { path, query } = splitGraphUrl(url);
  // Graph writes both /users/delta and /users/delta() (https://learn.microsoft.com/en-us/graph/delta-query-overview);
  // next links of a round keep the function path.
  return /(^|\/)(microsoft\.graph\.)?delta(\(\))?$/.test(path) || query.has('$deltatoken');
}

function toPage<T>(body: Record<string, unknown> | undefined): GraphPage<T> {
  if (!body) return { value: [] };
  const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
  const deltaLink = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : undefined;
  if (Array.isArray(body.value)) return { value: body.value as T[], nextLink, deltaLink };
  const { '@odata.context': _context, ...entity } = body;
  return { value: [entity as T] };
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : String(headers[key]);
}

function toResult<T>(url: string, r: BatchResponseItem | undefined): BatchGetResult<T> {
  if (!r) return { url, status: 0, error: { code: 'NoResponse', message: 'Graph did not answer this request' } };
  if (r.status >= 200 && r.status < 300) return { url, status: r.status, body: r.body as T };
  const error = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return { url, status: r.status, error: { code: error?.code, message: error?.message } };
}
