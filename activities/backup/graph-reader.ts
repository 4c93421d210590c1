type Item = Record<string, unknown>;

/**
 * Reads a long list whose first page (`first`) came back with a next link (`next`): answers every item of the list
 * (read in partitions, or page by page from `next`), or undefined to have it read page after page from `next`.
 */
export type LongListReader = (first: Item[], next: string) => Promise<Item[] | undefined>;

export interface GraphPage {
  value: Record<string, unknown>[];
  nextLink?: string;
  deltaLink?: string;
}

/** What one capture activity cost in Graph requests, resource units and throttling. */
export interface GraphRunStats {
  requests: number;
  resourceUnits: number;
  throttled: number;
  throttleWaitMs: number;
  graphMs: number;
}

export interface GraphErrorStatus {
  status: number;
  code?: string;
  message?: string;
}

/**
 * What the capture activity needs from Graph for one tenant, as the Backup app: paged reads that follow Graph's
 * opaque links, many relationship reads at once, stats, and the mapping of Graph's errors. Implemented over the
 * throttle-aware Graph client in activities/graph/.
 */
export interface GraphReader {
  /** Graph service root, e.g. https://graph.microsoft.com/v1.0 */
  rootUrl: string;
  /** Pages from `url` on; `advanced` sends `ConsistencyLevel: eventual` (a `$count=true` or filtered cast query). */
  pages(url: string, options?: { advanced?: boolean }): AsyncIterable<GraphPage>;
  /** One page of a collection or delta round, its JSON unparsed (failures as from `pages`). */
  pageBytes(url: string): Promise<Uint8Array>;
  /** What `/{set}/$count` (with any `$filter`) answers, as an advanced query (eventually consistent). */
  count(url: string): Promise<number>;
  /** A singleton resource as one page of one object. */
  single(url: string): AsyncIterable<GraphPage>;
  /**
   * Every item of each collection (all pages), in the order of `urls`. A list longer than its first page is read by
   * `long(index)` where that gives a reader (e.g. in partitions read in parallel), else page after page.
   */
  readAllMany(urls: string[], options?: { long?: (index: number) => LongListReader | undefined }): Promise<Item[][]>;
  stats(): GraphRunStats;
  /** The pacer's budget for this tenant as RU per second (its estimate × target utilisation ÷ window). */
  budgetRuPerSecond(): number;
  /** 410 Gone for a delta link: the caller starts a full read. */
  isDeltaReset(err: unknown): boolean;
  /** Graph's answer when `err` is one (status, error.code, message). */
  statusOf(err: unknown): GraphErrorStatus | undefined;
  /** The failure Temporal should see: retry after Retry-After, or not at all. */
  toActivityFailure(err: unknown): Error;
}
