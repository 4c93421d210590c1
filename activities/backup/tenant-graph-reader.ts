import { GraphError } from '@microsoft/microsoft-graph-client';
import { ApplicationFailure } from '@temporalio/common';
import pLimit from 'p-limit';
import type { EntraConfig } from '../../temporal.config';
import { TenantGraph, BATCH_LIMIT } from '../graph/tenant-graph';
import { estimateResourceUnits } from '../graph/resource-units';
import { DeltaTokenExpiredError, isDeltaReset, toActivityFailure } from '../graph/graph-failure';
import type { TokenProvider } from '../graph/token-provider';
import type { GraphErrorStatus, GraphReader } from './graph-reader';

/** An inner `$batch` answer that was not a success, kept with Graph's status and code for the coverage report. */
class BatchItemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

type Item = Record<string, unknown>;

/**
 * `$batch` requests one reader keeps in flight, whatever number of readAllMany calls it serves (a page of groups is
 * read as many slices at once). At least enough to hide a fast Graph's latency; at most a bound on the relationship
 * lists held at once, and few enough that other types' requests are not queued at the pacer behind hundreds of one
 * type's batches. Between the two, what fills the budget at the latency observed (batchesToFillBudget).
 */
const MIN_BATCHES_IN_FLIGHT = 8;
const MAX_BATCHES_IN_FLIGHT = 48;

/**
 * Batches in flight that keep the pacer's budget busy (Little's law: requests in flight = rate × time in flight): the
 * budget's RU per second × the seconds a batch takes ÷ the RU a batch costs. A batch answers when its slowest inner
 * request does, so under Graph's field latency (about a second for a page of 999 members) eight batches use a fifth of
 * the budget; under a fast model the lower bound holds.
 */
export function batchesToFillBudget(budgetRuPerSecond: number, batchSeconds: number, ruPerBatch: number): number {
  if (!(batchSeconds > 0) || !(ruPerBatch > 0)) return MIN_BATCHES_IN_FLIGHT;
  const wanted = Math.ceil((budgetRuPerSecond * batchSeconds) / ruPerBatch);
  return Math.min(MAX_BATCHES_IN_FLIGHT, Math.max(MIN_BATCHES_IN_FLIGHT, wanted));
}

/** Smoothed seconds and RU of recent batches (each new one weighs a fifth). */
class BatchFlow {
  seconds = 0;
  ru = 0;

  observe(seconds: number, ru: number): void {
    this.seconds = this.seconds === 0 ? seconds : 0.8 * this.seconds + 0.2 * seconds;
    this.ru = this.ru === 0 ? ru : 0.8 * this.ru + 0.2 * ru;
  }
}

/** The capture activity's view of Graph for one tenant, as the Backup app: the throttle-aware TenantGraph. */
export function createGraphReader(entra: EntraConfig, tokens: TokenProvider, directory: string): GraphReader {
  const graph = TenantGraph.forApp(entra, tokens, 'backup', directory);
  const lanes = pLimit(MIN_BATCHES_IN_FLIGHT);
  const flow = new BatchFlow();
  const budgetRuPerSecond = () => {
    const { budget } = graph.pacer.state();
    return (budget * graph.pacer.options.targetUtilisation * 1000) / graph.pacer.options.windowMs;
  };
  return {
    rootUrl: entra.graphBaseUrl,
    pages: (url, options) => graph.pages<Item>(url, options),
    pageBytes: (url) => graph.pageBytes(url),
    count: (url) => graph.count(url),
    single: (url) => graph.pages<Item>(url),

    /**
     * First pages of many relationships through `$batch` (20 a request: fewer round trips; each inner request is
     * still charged its own resource units), then any further pages one by one.
     */
    async readAllMany(urls, options = {}) {
      const out = new Array<Item[]>(urls.length);
      const chains: Promise<void>[] = [];
      const readBatch = async (start: number) => {
        const answers = await lanes(async () => {
          const began = performance.now();
          const batch = urls.slice(start, start + BATCH_LIMIT);
          const answered = await graph.batchGet<{ value?: Item[]; '@odata.nextLink'?: string }>(batch);
          // The time includes any wait at the pacer: when the budget is the bound, further lanes (up to the maximum)
          // only queue there, behind the chains the pacer serves first.
          const ru = batch.reduce((sum, url) => sum + estimateResourceUnits('GET', url), 0);
          flow.observe((performance.now() - began) / 1000, ru);
          lanes.concurrency = batchesToFillBudget(budgetRuPerSecond(), flow.seconds, flow.ru);
          return answered;
        });
        for (const [k, answer] of answers.entries()) {
          // The parent vanished between its listing and this read: it has no relationships to keep.
          if (answer.status === 404) {
            out[start + k] = [];
            continue;
          }
          if (answer.status >= 300 || !answer.body) {
            const message = answer.error?.message ?? `status ${answer.status}`;
            throw new BatchItemError(answer.status, answer.error?.code, message);
          }
          const items = [...(answer.body.value ?? [])];
          out[start + k] = items;
          const next = answer.body['@odata.nextLink'];
          // A large group's further pages can only be read one after another: follow each chain on its own, so the
          // longest one overlaps the rest of the batches instead of holding up its lane.
          if (next) {
            const long = options.long?.(start + k);
            const chain = (async () => {
              const all = long ? await long(items, next) : undefined;
              if (all) out[start + k] = all;
              else for await (const page of graph.pages<Item>(next)) items.push(...page.value);
            })();
            chain.catch(() => undefined); // awaited below; not an unhandled rejection if a lane fails first
            chains.push(chain);
          }
        }
      };
      // A few batches in flight (shared by every call of this reader) hide Graph's latency; the pacer and the
      // Retry-After gate still hold them to the budget.
      const starts = Array.from({ length: Math.ceil(urls.length / BATCH_LIMIT) }, (_, n) => n * BATCH_LIMIT);
      await Promise.all(starts.map((start) => readBatch(start)));
      await Promise.all(chains);
      return out;
    },

    budgetRuPerSecond,
    stats: () => {
      const s = graph.stats;
      return {
        requests: s.requests,
        resourceUnits: s.resourceUnits,
        throttled: s.throttled,
        throttleWaitMs: s.throttleWaitMs + s.pacingWaitMs,
        graphMs: s.graphTimeMs,
      };
    },
    isDeltaReset: (err) => err instanceof DeltaTokenExpiredError || isDeltaReset(err),
    statusOf(err): GraphErrorStatus | undefined {
      if (err instanceof BatchItemError) return { status: err.status, code: err.code, message: err.message };
      if (err instanceof GraphError)
        return { status: err.statusCode, code: err.code ?? undefined, message: err.message };
      return undefined;
    },
    toActivityFailure(err) {
      if (err instanceof BatchItemError) {
        const what = `Graph answered ${err.status}${err.code ? ` ${err.code}` : ''} inside a batch: ${err.message}`;
        if (err.status >= 500) return new Error(what);
        return ApplicationFailure.create({ type: 'GraphRequestFailed', message: what, nonRetryable: true });
      }
      return toActivityFailure(err);
    },
  };
}
