import { activityInfo, Context } from '@temporalio/activity';
import {
  classifyReadError,
  deltaStartUrl,
  firstPageUrl,
  getObjectType,
  relationshipUrl,
  type ObjectTypeSpec,
  type SkipReason,
} from '../../catalog';
import { breathe } from '../../storage/breather';
import { CheckpointMissingError } from '../../storage/checkpoints';
import type { SyncState } from '../../storage/sync-state';
import type { TypeWriter } from '../../storage/type-writer';
import type { BackupTarget } from '../../tenants/types';
import { finalStorageFailure, type Repositories } from './repositories';
import type { GraphReader, GraphRunStats } from './graph-reader';
import { HARD_DELETED, SOFT_DELETED, scanPageLinks, type DigestedItems, type PageLinks } from './page-digest';
import type { PageDigester } from './page-digester';
import { storedForm } from '../../storage/stored-form';

export interface CaptureTypeInput {
  job: BackupTarget;
  type: string;
}

/** What the workflow learns of one type: counts and storage ids, never directory objects. */
export type TypeCapture =
  | {
      type: string;
      status: 'captured';
      readMode: 'full' | 'delta';
      count: number;
      softDeleted: number;
      /** Objects (and removals) read from Graph in this run: everything on a full read, changes on a delta. */
      objectsRead: number;
      /** Time spent storing (compressing, encrypting, writing packs, checkpoints, the manifest). */
      storageMs: number;
      manifest: string;
      syncState?: string;
      blobsAdded: number;
      bytesWritten: number;
      graph: GraphRunStats;
    }
  | { type: string; status: 'skipped'; reason: SkipReason; detail: string; graph: GraphRunStats };

/** Heartbeated after every durable checkpoint; a retried attempt continues from it. */
interface CaptureCheckpoint {
  readMode: 'full' | 'delta';
  base?: string;
  writerCheckpoint: string;
  /** The Graph page to read next (opaque link from Graph, used as is). */
  nextLink: string;
  /** A full read of a delta type took its delta link first; it is kept for the next backup. */
  deltaLink?: string;
  objectsRead: number;
}

export interface CaptureDependencies {
  repositories: Repositories;
  /** A throttle-aware reader for the Backup app in one tenant. */
  graphFor(directory: string): GraphReader;
  fullReadEvery: number;
  /** Seconds between durable checkpoints. */
  checkpointEverySeconds?: number;
  /** Parses and digests pages of types without relationships off the main thread; without it, they are parsed here. */
  digester?: PageDigester;
}

/**
 * Captures one object type of one tenant into the snapshot being written: reads Graph (delta where it can, in full
 * where it must), stores every object version once, and returns counts and the type's manifest id. Idempotent and
 * resumable: every few seconds the writer is checkpointed to storage and the checkpoint heartbeated with the next
 * page link, so a retried attempt (a crashed worker) continues there instead of starting over.
 */
export function createCaptureActivities(deps: CaptureDependencies) {
  return {
    async captureType(input: CaptureTypeInput): Promise<TypeCapture> {
      const spec = getObjectType(input.type);
      const graph = deps.graphFor(input.job.directory);
      // The base of this backup: records of this tenant only (a foreign one fails the capture for good).
      const { repo, previous } = await deps.repositories
        .forTenant(input.job)
        .then(async (repo) => ({ repo, previous: await repo.latestCoverage(spec.key) }))
        .catch((err: unknown) => {
          throw finalStorageFailure(err);
        });
      const resume = activityInfo().heartbeatDetails as CaptureCheckpoint | undefined;

      let sync: SyncState | undefined;
      if (previous?.syncState && spec.delta) sync = await repo.readSyncState(previous.syncState);
      const deltaAllowed =
        !!sync && sync.directory === input.job.directory && sync.deltaRounds + 1 < deps.fullReadEvery;

      const run = async (readMode: 'full' | 'delta', checkpoint?: CaptureCheckpoint): Promise<TypeCapture> => {
        // A resumed attempt keeps the base it started with.
        const base = checkpoint ? checkpoint.base : previous?.manifest;
        const writer = await repo.openTypeWriter(spec.key, {
          mode: readMode === 'delta' ? 'changes' : 'full',
          base,
          resumeFrom: checkpoint?.writerCheckpoint,
        });
        try {
          // A full read of a delta type first asks for a delta link without data ($deltatoken=latest), then lists
          // the type with the largest pages Graph allows: pages of a delta round are smaller and must be read one
          // after another. What changes during the listing comes back in the next round, which is harmless.
          // https://learn.microsoft.com/graph/delta-query-overview ("$deltaToken=latest")
          let fullReadDeltaLink = checkpoint?.deltaLink;
          if (readMode === 'full' && spec.delta && !fullReadDeltaLink) {
            for await (const page of graph.pages(
              `${deltaStartUrl(spec.key, { baseUrl: graph.rootUrl })}&$deltatoken=latest`,
            )) {
              fullReadDeltaLink = page.deltaLink ?? fullReadDeltaLink;
            }
          }
          const startUrl =
            checkpoint?.nextLink ??
            (readMode === 'delta' ? sync!.deltaLink : firstPageUrl(spec.key, { baseUrl: graph.rootUrl }));
          const outcome = await readInto(
            spec,
            graph,
            writer,
            startUrl,
            readMode,
            checkpoint,
            base,
            fullReadDeltaLink,
            deps,
          );
          if (readMode === 'full' && spec.deletedItemsCast) await readRecycleBin(spec, graph, writer);
          const deltaLink = readMode === 'delta' ? outcome.deltaLink : fullReadDeltaLink;
          if (deltaLink) {
            writer.setSyncState({
              directory: input.job.directory,
              deltaLink,
              deltaRounds: readMode === 'delta' ? (sync?.deltaRounds ?? 0) + 1 : 0,
            } satisfies SyncState);
          }
          const finishing = Date.now();
          const result = await writer.finish();
          const storageMs = outcome.storageMs + (Date.now() - finishing);
          return {
            type: spec.key,
            status: 'captured',
            readMode,
            count: result.count,
            softDeleted: result.softDeleted,
            objectsRead: outcome.objectsRead,
            storageMs,
            manifest: result.manifest,
            ...(result.syncState ? { syncState: result.syncState } : {}),
            blobsAdded: result.blobsAdded,
            bytesWritten: result.bytesWritten,
            graph: graph.stats(),
          };
        } catch (err) {
          await writer.abort();
          throw err;
        }
      };

      try {
        const fresh = deltaAllowed ? 'delta' : 'full';
        const mode = resume?.readMode ?? fresh;
        try {
          return await run(mode, resume);
        } catch (err) {
          // The attempt before finished the type (which deletes its checkpoints) but was not recorded as done, or the
          // checkpoint outlived prune's grace period: nothing to resume, so the type is read again (what is already
          // stored is deduplicated).
          if (resume && err instanceof CheckpointMissingError) return await run(fresh);
          // Graph answered 410 for the delta link or a saved page link (expired, or reset): read the type in full,
          // from the start, by itself. https://learn.microsoft.com/graph/delta-query-overview ("Synchronization reset")
          if ((mode === 'delta' || resume) && graph.isDeltaReset(err)) return await run('full');
          throw err;
        }
      } catch (err) {
        const status = graph.statusOf(err);
        if (status) {
          const reason = classifyReadError(spec.key, status);
          if (reason) {
            return {
              type: spec.key,
              status: 'skipped',
              reason,
              detail: `${status.status} ${status.code ?? ''}: ${status.message ?? ''}`.trim(),
              graph: graph.stats(),
            };
          }
        }
        throw graph.toActivityFailure(err);
      }
    },
  };
}

/**
 * A list read does not see the recycle bin; a full snapshot must still hold what can be restored from it. Objects
 * the previous snapshot had keep their last content (and relationships), marked soft-deleted; others are stored as
 * the recycle bin returns them. https://learn.microsoft.com/graph/api/directory-deleteditems-list
 */
async function readRecycleBin(spec: ObjectTypeSpec, graph: GraphReader, writer: TypeWriter): Promise<void> {
  const select = spec.select ? `?$select=${spec.select.join(',')}&$top=999` : '?$top=999';
  for await (const page of graph.pages(`${graph.rootUrl}/directory/deletedItems/${spec.deletedItemsCast}${select}`)) {
    for (const item of page.value) {
      const id = item[spec.idProperty] as string;
      if (writer.hasBaseEntry(id)) {
        await writer.markSoftDeleted(id);
      } else {
        const name = spec.displayNameProperty ? (item[spec.displayNameProperty] as string | undefined) : undefined;
        await writer.addObject(id, name ?? null, storedForm(item), { state: 'softDeleted' });
      }
    }
  }
}

/**
 * Parents (with their relationships) outstanding while pages are read ahead. Bounded by parents rather than pages:
 * one all-users group's member list is a chain of a hundred pages, and a pipeline a few pages deep kept every later
 * page of groups waiting behind it. 800 parents are forty slices, enough to keep Graph busy; their members are the
 * largest thing the worker holds (with 2,000, a heap snapshot found ~375,000 of them, 54 MB; no faster).
 */
const MAX_PAGES_AHEAD = 16;
const MAX_PARENTS_AHEAD = 800;
/**
 * Pages of a type without relationships read ahead of the one being stored. Pages digested in a thread are compact
 * (about 1 MB per 999 users, no parsed objects), and storing them may fall behind for a while (finishing a slice of
 * groups, a checkpoint's flush): the sequential listing goes on meanwhile. Pages parsed here are a few MB each.
 */
const DIGESTED_PAGES_AHEAD = 12;
const PAGES_AHEAD_WITHOUT_RELATIONSHIPS = 3;
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
  links: PageLinks;
  /** Items of the page (removed ones included), for the count a checkpoint keeps. */
  items: number;
  slices: Slice[];
}

async function readInto(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  writer: TypeWriter,
  startUrl: string,
  readMode: 'full' | 'delta',
  checkpoint: CaptureCheckpoint | undefined,
  base: string | undefined,
  fullReadDeltaLink: string | undefined,
  deps: CaptureDependencies,
): Promise<{ objectsRead: number; deltaLink?: string; storageMs: number }> {
  let objectsRead = checkpoint?.objectsRead ?? 0;
  let storageMs = 0;
  let lastCheckpointAt = Date.now();
  const everyMs = (deps.checkpointEverySeconds ?? 10) * 1000;
  let lastDetails: CaptureCheckpoint | undefined = checkpoint;
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
      const { ids, names, removed, offsets } = content.items;
      const bytes = Buffer.from(content.items.bytes.buffer, content.items.bytes.byteOffset, content.items.bytes.length);
      for (let i = 0; i < ids.length; i++) {
        await breathe();
        if (removed[i] === SOFT_DELETED) await writer.markSoftDeleted(ids[i]);
        else if (removed[i] === HARD_DELETED) await writer.remove(ids[i]);
        else await writer.addCanonicalObject(ids[i], names[i], bytes.subarray(offsets[i], offsets[i + 1]));
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
    if (!page.links.nextLink || checkpointing || Date.now() - lastCheckpointAt < everyMs) return;
    // The writer may hold some of the next pages' objects too (slices are stored as they complete); a resumed attempt
    // reads those pages again and stores the same entries, which changes nothing.
    const details = { readMode, base, nextLink: page.links.nextLink, deltaLink: fullReadDeltaLink, objectsRead };
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

  // Pages are fetched one after another (Graph's links are sequential) by a reader that runs ahead of the storing,
  // so neither waits for the other while both have work; the relationships of many parents are read at once. Slices
  // are stored as they complete; checkpoints only ever cover whole pages, in order.
  const ahead: PageWork[] = [];
  let parentsAhead = 0;
  const digester = spec.relationships.length === 0 && !spec.singleton ? deps.digester : undefined;
  const pagesAhead = digester
    ? DIGESTED_PAGES_AHEAD
    : spec.relationships.length === 0
      ? PAGES_AHEAD_WITHOUT_RELATIONSHIPS
      : MAX_PAGES_AHEAD;
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

  const queue = async (page: PageWork) => {
    ahead.push(page);
    for (const s of page.slices) parentsAhead += s.parents;
    progress.wake();
    while (!stopped && (ahead.length >= pagesAhead || parentsAhead >= MAX_PARENTS_AHEAD)) await pageStored.wait();
  };

  /** Pages of objects parsed here: singletons, and types whose relationships are read per parent. */
  const readObjectPages = async () => {
    const pages = spec.singleton ? graph.single(startUrl) : graph.pages(startUrl);
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
      await queue({ links: { nextLink: page.nextLink, deltaLink: page.deltaLink }, items: items.length, slices });
      if (stopped) break;
    }
  };
  const relationshipSlice = (items: Record<string, unknown>[], parents: Record<string, unknown>[]) =>
    slice(
      parents.length,
      readRelationships(spec, graph, parents).then((relationships): PageContent => ({
        kind: 'objects',
        items,
        relationships,
      })),
    );

  /** Pages of a type without relationships, parsed and digested in a worker thread; only their links are read here. */
  const readDigestedPages = async (digester: PageDigester) => {
    const digestSpec = { idProperty: spec.idProperty, displayNameProperty: spec.displayNameProperty };
    for (let url: string | undefined = startUrl; url !== undefined && !stopped;) {
      Context.current().cancellationSignal.throwIfAborted();
      const body = await graph.pageBytes(url);
      // Read here (a few hundred bytes of the page) rather than awaited from the thread: the next page goes out now.
      const scanned = scanPageLinks(body);
      const digest = digester.digest(body, digestSpec);
      const links = scanned ?? (await digest.links);
      const work: PageWork = { links, items: 0, slices: [] };
      const content = digest.items.then((items): PageContent => {
        work.items = items.ids.length;
        return { kind: 'digested', items };
      });
      work.slices.push(slice(0, content));
      await queue(work);
      url = links.nextLink;
    }
  };

  const readPages = async () => {
    try {
      await (digester ? readDigestedPages(digester) : readObjectPages());
    } catch (error) {
      readFailure = { error };
    } finally {
      reading = false;
      progress.wake();
    }
  };

  const reader = readPages();
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
        while (ahead.length > 0 && ahead[0].slices.every((s) => s.stored)) pageDone(ahead.shift()!);
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
    stopped = true;
    pageStored.wake();
    await reader;
    await checkpointing;
  }
  return { objectsRead, deltaLink, storageMs };
}

async function readRelationships(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  parents: Record<string, unknown>[],
): Promise<Relationships> {
  const byParent: Relationships = new Map();
  if (parents.length === 0) return byParent;
  const requests = parents.flatMap((p) =>
    spec.relationships.map((rel) => ({
      parent: p[spec.idProperty] as string,
      rel: rel.key,
      url: relationshipUrl(spec.key, rel.key, p[spec.idProperty] as string, { baseUrl: graph.rootUrl }),
    })),
  );
  const results = await graph.readAllMany(requests.map((r) => r.url));
  for (const [i, r] of requests.entries()) {
    const rels = byParent.get(r.parent) ?? {};
    const items = results[i];
    const stored = new Array<{ id: string }>(items.length);
    for (let k = 0; k < items.length; k++) {
      stored[k] = storedForm(items[k]) as { id: string };
      // An all-users group has 100,000 members.
      if (k % 1000 === 999) await breathe();
    }
    rels[r.rel] = stored;
    byParent.set(r.parent, rels);
    await breathe();
  }
  return byParent;
}

/** Wakes the other side of the page pipeline; a side checks its condition, then waits, in the same tick. */
class Wakeup {
  private resolve?: () => void;

  wait(): Promise<void> {
    return new Promise((resolve) => (this.resolve = resolve));
  }

  wake(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}
