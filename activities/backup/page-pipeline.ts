import { Context, log } from '@temporalio/activity';
import pLimit, { type LimitFunction } from 'p-limit';
import { relationshipUrl, searchProperties, type ObjectTypeSpec } from '../../catalog';
import { longRelationshipReader } from './relationship-partitions';
import { breathe } from '../../storage/breather';
import { storedForm } from '../../storage/stored-form';
import type { TypeWriter } from '../../storage/type-writer';
import type { GraphReader } from './graph-reader';
import { HARD_DELETED, SOFT_DELETED, scanPageLinks, type DigestedItems, type PageLinks } from './page-digest';
import type { PageDigester } from './page-digester';
import type { PartitioningMode } from './partitions';

/**
 * The read-ahead page pipeline of one capture: a reader fetches a type's pages (and its parents' relationships) ahead
 * of the storing, in bounded amounts, and the storing writes them to the type writer and checkpoints whole pages.
 */

/** Heartbeated after every durable checkpoint; a retried attempt continues from it. */
export interface CaptureCheckpoint {
  readMode: 'full' | 'delta';
  base?: string;
  writerCheckpoint: string;
  /** The Graph page to read next (opaque link from Graph, used as is). */
  nextLink: string;
  /** A full read of a delta type took its delta link first; it is kept for the next backup. */
  deltaLink?: string;
  objectsRead: number;
  /** A partitioned listing: each partition's next page, null once it is read to the end (`nextLink` is unused). */
  partitions?: ListingChain[];
  /** Graph's count of the type when the partitioned listing started, for its completeness check. */
  countBefore?: number;
}

/** One listing of a partitioned read: its key (the prefix) and the page to read next, null when done. */
export interface ListingChain {
  key: string;
  next: string | null;
}

/**
 * Parents (with their relationships) outstanding while pages are read ahead. Bounded by parents rather than pages:
 * one all-users group's member list is a chain of a hundred pages, and a pipeline a few pages deep kept every later
 * page of groups waiting behind it. 800 parents are forty slices, enough to keep Graph busy; their members are the
 * largest thing the worker holds, so the bound is what keeps its memory flat.
 */
const MAX_PARENTS_AHEAD = 800;
/**
 * Read-ahead is bounded by what pages hold, never by a number of pages: Graph may answer with 999 objects a page, 120
 * (its 2023 cap on /users) or 1 (a delta page), and a bound of a few pages either holds megabytes or starves the
 * reader. Objects parsed here (a few KB each with their relationships' ids) and bytes of pages digested in a thread
 * (compact: about 1 MB per 999 users) are counted; storing them may fall behind for a while (finishing a slice of
 * groups, a checkpoint's flush) while the listing goes on.
 */
const OBJECTS_AHEAD = 3000;
const DIGESTED_BYTES_AHEAD = 16 * 1024 * 1024;
/** Pages tracked at once, whatever they hold: a bound on bookkeeping when pages are tiny. */
const MAX_PAGES_AHEAD = 2000;
/**
 * Listings of a partitioned read in flight at once. Each waits about a second a page for Graph; the pacer holds them
 * all to the budget, and read-ahead to the memory bounds above.
 */
const LISTINGS_IN_FLIGHT = 16;
/**
 * Pages smaller than Graph's usual 999 (a capped `/users`, 120 in 2023) widen the listings in flight, so the objects
 * in flight stay about those of 16 full pages while the listing needs no more time: at 100,000 users under the doubled
 * field model with pages capped at 120, 16 listings took 55 s for what the budget allows in 25 s.
 */
const MAX_LISTINGS_IN_FLIGHT = 48;
const FULL_PAGE = 999;
/**
 * Parents whose relationships are read (and then stored) together: a page of groups is cut into slices of this many,
 * stored in the order they complete, so a group with a hundred pages of members holds up only its own slice.
 */
const PARENTS_PER_SLICE = 40;

type Relationships = Map<string, Record<string, { id: string; [k: string]: unknown }[]>>;

/** A part of a page ready to be stored: objects parsed here with their relationships, or items digested in a thread. */
type PageContent =
  | { kind: 'objects'; items: Record<string, unknown>[]; relationships: Relationships }
  | { kind: 'digested'; items: DigestedItems };

interface Slice {
  parents: number;
  content?: PageContent;
  failure?: { error: unknown };
  stored: boolean;
}

interface PageWork {
  /** The listing (partition) the page belongs to. */
  chain: number;
  /** Objects (parsed here) or bytes (digested in a thread) the page holds, for the read-ahead bound. */
  weight: number;
  links: PageLinks;
  /** Items of the page (removed ones included), for the count a checkpoint keeps. */
  items: number;
  slices: Slice[];
}

export interface PagePipelineOptions {
  spec: ObjectTypeSpec;
  graph: GraphReader;
  writer: TypeWriter;
  /** The first page to read: a list, a delta link, or the page a resumed attempt continues from. */
  startUrl: string;
  /** A partitioned listing: its listings, read in parallel, instead of `startUrl`. */
  partitions?: ListingChain[];
  /** Graph's count when the partitioned listing started, recorded in checkpoints. */
  countBefore?: number;
  readMode: 'full' | 'delta';
  /** The checkpoint a retried attempt resumes from (its writer state is already restored into `writer`). */
  resume?: CaptureCheckpoint;
  /** Manifest the writer builds on, recorded in checkpoints. */
  base?: string;
  /** The delta link a full read of a delta type took first, recorded in checkpoints. */
  fullReadDeltaLink?: string;
  /** Seconds between durable checkpoints (default 10). */
  checkpointEverySeconds?: number;
  /** Parses and digests pages of types without relationships off the main thread. */
  digester?: PageDigester;
  /** How long relationship lists (an all-users group's members) are read: see longRelationshipReader. */
  partitioning?: PartitioningMode;
}

export interface PagePipelineResult {
  objectsRead: number;
  /** The delta link of the last page, when the read was a delta round (or a delta type's listing). */
  deltaLink?: string;
  /** Time spent storing and checkpointing. */
  storageMs: number;
  /** Objects whose relationships this read stored (so they need no re-read). */
  relationshipsRead: ReadonlySet<string>;
}

/**
 * Reads every page from `startUrl` and stores its objects (with their relationships) in `writer`. Pages are fetched
 * one after another (Graph's links are sequential) by a reader that runs ahead of the storing, so neither waits for
 * the other while both have work; the relationships of many parents are read at once. Slices are stored as they
 * complete; checkpoints only ever cover whole pages, in order, and are heartbeated with the next page link.
 */
export async function readPagesInto(options: PagePipelineOptions): Promise<PagePipelineResult> {
  const { spec, graph, writer, startUrl, readMode, resume: checkpoint, base, fullReadDeltaLink } = options;
  let objectsRead = checkpoint?.objectsRead ?? 0;
  let storageMs = 0;
  let lastCheckpointAt = Date.now();
  const everyMs = (options.checkpointEverySeconds ?? 10) * 1000;
  let lastDetails: CaptureCheckpoint | undefined = checkpoint;
  const chains: ListingChain[] = options.partitions?.map((c) => ({ ...c })) ?? [{ key: '', next: startUrl }];
  const partitioned = options.partitions !== undefined;
  /** Each listing's next page as far as its pages are stored (what a checkpoint records). */
  const storedUpTo = chains.map((c) => c.next);
  // A large group comes back on several delta pages (each with a slice of members@delta): read its relationships once.
  const related = new Set<string>();
  let deltaLink: string | undefined;

  const storeContent = async (content: PageContent) => {
    if (content.kind === 'objects') {
      for (const item of content.items) {
        // Storing a page is CPU work (hash, compress, encrypt) awaited only through microtasks, which starves socket
        // I/O: the next page, already asked for, would not even be read until the whole page is stored.
        await breathe();
        const id = item[spec.idProperty] as string;
        const removed = item['@removed'] as { reason?: string } | undefined;
        if (removed) {
          // "changed": in the recycle bin, restorable; "deleted": gone for good (delta-query-overview, @removed).
          if (removed.reason === 'changed') await writer.markSoftDeleted(id);
          else await writer.remove(id);
          continue;
        }
        const name = spec.displayNameProperty ? (item[spec.displayNameProperty] as string | undefined) : undefined;
        await writer.addObject(id, name ?? null, storedForm(item), { relationships: content.relationships.get(id) });
      }
    } else {
      const { ids, names, search, removed, offsets } = content.items;
      const bytes = Buffer.from(content.items.bytes.buffer, content.items.bytes.byteOffset, content.items.bytes.length);
      for (let i = 0; i < ids.length; i++) {
        await breathe();
        if (removed[i] === SOFT_DELETED) await writer.markSoftDeleted(ids[i]);
        else if (removed[i] === HARD_DELETED) await writer.remove(ids[i]);
        else
          await writer.addCanonicalObject(ids[i], names[i], bytes.subarray(offsets[i], offsets[i + 1]), {
            search: search[i] ?? undefined,
          });
      }
    }
  };

  /**
   * Every slice of the page (and of the pages before it) is stored: checkpoint up to its next link. The storing goes
   * on while the checkpoint file is written; the heartbeat names it once it is (one at a time).
   */
  let checkpointing: Promise<void> | undefined;
  let checkpointFailure: { error: unknown } | undefined;
  const pageDone = (page: PageWork) => {
    objectsRead += page.items;
    if (page.links.deltaLink) deltaLink = page.links.deltaLink;
    storedUpTo[page.chain] = page.links.nextLink ?? null;
    const resumeAt = storedUpTo.find((next) => next !== null);
    if (!resumeAt || checkpointing || Date.now() - lastCheckpointAt < everyMs) return;
    // The writer may hold some of the next pages' objects too (slices are stored as they complete, and pages of other
    // listings ahead of the checkpoint); a resumed attempt reads those pages again and stores the same entries, which
    // changes nothing.
    const details: Omit<CaptureCheckpoint, 'writerCheckpoint'> = {
      readMode,
      base,
      nextLink: resumeAt,
      deltaLink: fullReadDeltaLink,
      objectsRead,
      ...(partitioned
        ? {
            partitions: chains.map((c, i) => ({ key: c.key, next: storedUpTo[i] })),
            countBefore: options.countBefore,
          }
        : {}),
    };
    const started = Date.now();
    checkpointing = writer.checkpoint().then(
      (writerCheckpoint) => {
        lastDetails = { ...details, writerCheckpoint };
        lastCheckpointAt = Date.now();
        storageMs += lastCheckpointAt - started;
        checkpointing = undefined;
        Context.current().heartbeat(lastDetails);
      },
      (error: unknown) => {
        checkpointFailure = { error };
        checkpointing = undefined;
      },
    );
  };

  const ahead: PageWork[] = [];
  let parentsAhead = 0;
  let weightAhead = 0;
  const digester = spec.relationships.length === 0 && !spec.singleton ? options.digester : undefined;
  const weightBound = digester ? DIGESTED_BYTES_AHEAD : OBJECTS_AHEAD;
  const progress = new Wakeup();
  const pageStored = new Wakeup();
  let reading = true;
  let stopped = false;
  let readFailure: { error: unknown } | undefined;

  const slice = (parents: number, content: Promise<PageContent>): Slice => {
    const s: Slice = { parents, stored: false };
    content.then(
      (c) => (s.content = c),
      (error: unknown) => (s.failure = { error }),
    );
    void content.finally(() => progress.wake()).catch(() => undefined);
    return s;
  };

  let listingLanes: LimitFunction | undefined;
  /** A full page (one with a next link) of `objects` says how large this listing's pages are. */
  const pageSize = (objects: number, hasNext: boolean) => {
    if (!listingLanes || !hasNext || objects <= 0) return;
    const wanted = Math.round((LISTINGS_IN_FLIGHT * FULL_PAGE) / objects);
    const lanes = Math.min(MAX_LISTINGS_IN_FLIGHT, Math.max(LISTINGS_IN_FLIGHT, wanted));
    if (lanes > listingLanes.concurrency) listingLanes.concurrency = lanes;
  };

  const queue = async (page: PageWork) => {
    ahead.push(page);
    weightAhead += page.weight;
    for (const s of page.slices) parentsAhead += s.parents;
    progress.wake();
    while (
      !stopped &&
      (weightAhead >= weightBound || ahead.length >= MAX_PAGES_AHEAD || parentsAhead >= MAX_PARENTS_AHEAD)
    )
      await pageStored.wait();
  };

  /** Pages of objects parsed here: singletons, and types whose relationships are read per parent. */
  const readObjectPages = async (chain: number, url: string) => {
    const pages = spec.singleton ? graph.single(url) : graph.pages(url);
    for await (const page of pages) {
      // A worker shutting down (or the backup cancelled) stops the read between pages; the last checkpoint stays.
      Context.current().cancellationSignal.throwIfAborted();
      const items = page.value.filter((item) => typeof item[spec.idProperty] === 'string');
      const slices: Slice[] = [];
      let sliceItems: Record<string, unknown>[] = [];
      let parents: Record<string, unknown>[] = [];
      for (const item of items) {
        sliceItems.push(item);
        const id = item[spec.idProperty] as string;
        if (spec.relationships.length > 0 && !item['@removed'] && !related.has(id)) {
          related.add(id);
          parents.push(item);
        }
        if (parents.length < PARENTS_PER_SLICE) continue;
        slices.push(relationshipSlice(sliceItems, parents));
        sliceItems = [];
        parents = [];
      }
      if (sliceItems.length > 0 || slices.length === 0) slices.push(relationshipSlice(sliceItems, parents));
      pageSize(items.length, page.nextLink !== undefined);
      await queue({
        chain,
        weight: items.length,
        links: { nextLink: page.nextLink, deltaLink: page.deltaLink },
        items: items.length,
        slices,
      });
      if (stopped) break;
    }
  };
  const relationshipSlice = (items: Record<string, unknown>[], parents: Record<string, unknown>[]) =>
    slice(
      parents.length,
      readRelationships(spec, graph, parents, options.partitioning).then((relationships): PageContent => ({
        kind: 'objects',
        items,
        relationships,
      })),
    );

  /** Pages of a type without relationships, parsed and digested in a worker thread; only their links are read here. */
  const readDigestedPages = async (digester: PageDigester, chain: number, startAt: string) => {
    const digestSpec = {
      idProperty: spec.idProperty,
      displayNameProperty: spec.displayNameProperty,
      searchProperties: searchProperties(spec.key),
    };
    for (let url: string | undefined = startAt; url !== undefined && !stopped;) {
      Context.current().cancellationSignal.throwIfAborted();
      const body = await graph.pageBytes(url);
      // Read here (a few hundred bytes of the page) rather than awaited from the thread: the next page goes out now.
      const scanned = scanPageLinks(body);
      const digest = digester.digest(body, digestSpec);
      const links = scanned ?? (await digest.links);
      const work: PageWork = { chain, weight: body.length, links, items: 0, slices: [] };
      const content = digest.items.then((items): PageContent => {
        work.items = items.ids.length;
        pageSize(work.items, links.nextLink !== undefined);
        return { kind: 'digested', items };
      });
      work.slices.push(slice(0, content));
      await queue(work);
      url = links.nextLink;
    }
  };

  const readChain = async (chain: number, url: string) => {
    try {
      await (digester ? readDigestedPages(digester, chain, url) : readObjectPages(chain, url));
    } catch (error) {
      // Seen by the storing at once; the other listings stop at their next page.
      readFailure ??= { error };
      stopped = true;
      pageStored.wake();
      progress.wake();
    }
  };
  const readPages = async () => {
    const lanes = (listingLanes = pLimit(LISTINGS_IN_FLIGHT));
    try {
      await Promise.all(
        chains.map((c, i) =>
          c.next === null ? undefined : lanes(() => (stopped ? undefined : readChain(i, c.next!))),
        ),
      );
    } finally {
      reading = false;
      progress.wake();
    }
  };

  const reader = readPages();
  // Proof of life while the next slice to store waits on Graph: an all-users group's members, read in partitions
  // behind a busy pacer, or a Retry-After, can take longer than the heartbeat timeout. A stalled request is ended by
  // its own timeout, not by this; the details stay the last durable checkpoint. The SDK throttles the calls.
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(lastDetails), 5000);
  try {
    for (;;) {
      if (readFailure) throw readFailure.error;
      // A delta round may name an object more than once (later is newer): its slices are stored in order. A full
      // read names each object once, so any slice that is ready goes first.
      let ready: Slice | undefined;
      search: for (const page of ahead) {
        for (const s of page.slices) {
          if (s.stored) continue;
          if (s.content || s.failure) ready = s;
          if (ready || readMode === 'delta') break search;
        }
      }
      if (ready) {
        if (ready.failure) throw ready.failure.error;
        const storing = Date.now();
        await storeContent(ready.content!);
        ready.content = undefined;
        ready.stored = true;
        storageMs += Date.now() - storing;
        parentsAhead -= ready.parents;
        while (ahead.length > 0 && ahead[0].slices.every((s) => s.stored)) {
          const done = ahead.shift()!;
          weightAhead -= done.weight;
          pageDone(done);
        }
        if (checkpointFailure) throw checkpointFailure.error;
        pageStored.wake();
        await writer.heartbeat();
        Context.current().heartbeat(lastDetails);
        continue;
      }
      if (!reading && ahead.length === 0) break;
      await progress.wait();
    }
    await checkpointing;
    if (checkpointFailure) throw checkpointFailure.error;
  } finally {
    clearInterval(beat);
    stopped = true;
    pageStored.wake();
    await reader;
    await checkpointing;
  }
  return { objectsRead, deltaLink, storageMs, relationshipsRead: related };
}

async function readRelationships(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  parents: Record<string, unknown>[],
  partitioning: PartitioningMode | undefined,
): Promise<Relationships> {
  const byParent: Relationships = new Map();
  if (parents.length === 0) return byParent;
  const requests = parents.flatMap((p) =>
    spec.relationships.map((rel) => ({
      parent: p[spec.idProperty] as string,
      rel,
      url: relationshipUrl(spec.key, rel.key, p[spec.idProperty] as string, { baseUrl: graph.rootUrl }),
    })),
  );
  const results = await graph.readAllMany(
    requests.map((r) => r.url),
    {
      long: (i) =>
        longRelationshipReader(graph, requests[i].rel, requests[i].parent, {
          mode: partitioning,
          onFallback: (reason) =>
            log.warn('long relationship read page by page', { type: spec.key, parent: requests[i].parent, reason }),
          onDecision: (decision) =>
            log.info(
              decision.partition ? 'long relationship read in partitions' : 'long relationship read page by page',
              {
                type: spec.key,
                parent: requests[i].parent,
                ...decision,
              },
            ),
        }),
    },
  );
  for (const [i, r] of requests.entries()) {
    const rels = byParent.get(r.parent) ?? {};
    const items = results[i];
    const stored = new Array<{ id: string }>(items.length);
    for (let k = 0; k < items.length; k++) {
      stored[k] = storedForm(items[k]) as { id: string };
      // An all-users group has 100,000 members.
      if (k % 1000 === 999) await breathe();
    }
    rels[r.rel.key] = stored;
    byParent.set(r.parent, rels);
    await breathe();
  }
  return byParent;
}

/**
 * Wakes the other side of the page pipeline (the storing, or every listing waiting for room); a side checks its
 * condition, then waits, in the same tick.
 */
class Wakeup {
  private waiting: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
