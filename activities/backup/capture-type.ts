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
import type { TypeWriter } from '../../storage/type-writer';
import type { BackupTarget } from '../../tenants/types';
import type { Repositories } from './repositories';
import type { GraphPage, GraphReader } from './graph-reader';

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

export interface GraphRunStats {
  requests: number;
  resourceUnits: number;
  throttled: number;
  throttleWaitMs: number;
  graphMs: number;
}

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

/** What `setSyncState` stores for the next backup of the type. */
interface SyncState {
  /** The Microsoft tenant the link belongs to: a repository must never continue another tenant's round. */
  directory: string;
  deltaLink: string;
  /** Delta rounds since the last full read. */
  deltaRounds: number;
}

/** Graph's annotations that describe the response or the delta round, not the object. */
const ROUND_ANNOTATIONS = /@delta$|^@removed$|^@odata\.(context|nextLink|deltaLink)$/;

/**
 * The object as stored: without response annotations, and without top-level properties whose value is null. A list
 * read returns a selected but unset property as null; a delta round omits it (graph-behaviour 5.9). Both mean
 * "not set", so one form keeps the same version's content hash whichever way it was read.
 */
export function storedForm(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(item)) {
    const v = item[k];
    // Annotations all contain '@'; most names do not, and skip the pattern.
    if (v !== null && !(k.includes('@') && ROUND_ANNOTATIONS.test(k))) out[k] = v;
  }
  return out;
}

export interface CaptureDependencies {
  repositories: Repositories;
  /** A throttle-aware reader for the Backup app in one tenant. */
  graphFor(directory: string): GraphReader;
  fullReadEvery: number;
  /** Seconds between durable checkpoints. */
  checkpointEverySeconds?: number;
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
      const repo = await deps.repositories.get(input.job.storage);
      const previous = await repo.latestCoverage(spec.key);
      const resume = activityInfo().heartbeatDetails as CaptureCheckpoint | undefined;

      let sync: SyncState | undefined;
      if (previous?.syncState && spec.delta) sync = await repo.readJson<SyncState>(previous.syncState);
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
 * Pages read ahead of the one being stored, while their relationships are read. Bounded by the parents whose
 * relationships are outstanding rather than by a fixed page count: one all-users group's member list is a chain of a
 * hundred pages, and a pipeline only three pages deep kept every later page of groups waiting behind it.
 */
const MAX_PAGES_AHEAD = 16;
const MAX_PARENTS_AHEAD = 2_000;
/**
 * Pages of a type without relationships read ahead of the one being stored: enough that a slow page (Graph's latency
 * varies) does not stall the storing, few because a page of users is a few MB of parsed JSON.
 */
const PAGES_AHEAD_WITHOUT_RELATIONSHIPS = 3;

type Relationships = Map<string, Record<string, { id: string; [k: string]: unknown }[]>>;

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

  /** Stores one page (in page order) once its relationships are read; then checkpoints up to its next link. */
  const store = async (page: GraphPage, items: Record<string, unknown>[], relationships: Relationships) => {
    const storing = Date.now();
    for (const item of items) {
      // Storing a page is CPU work (hash, compress, encrypt) awaited only through microtasks, which starves socket
      // I/O: the next page, already asked for, would not even be read until the whole page is stored.
      await breathe();
      const id = item[spec.idProperty] as string;
      const removed = item['@removed'] as { reason?: string } | undefined;
      objectsRead++;
      if (removed) {
        // "changed": in the recycle bin, restorable; "deleted": gone for good (delta-query-overview, @removed).
        if (removed.reason === 'changed') await writer.markSoftDeleted(id);
        else await writer.remove(id);
        continue;
      }
      const name = spec.displayNameProperty ? (item[spec.displayNameProperty] as string | undefined) : undefined;
      await writer.addObject(id, name ?? null, storedForm(item), { relationships: relationships.get(id) });
    }
    storageMs += Date.now() - storing;
    if (page.deltaLink) deltaLink = page.deltaLink;
    if (page.nextLink && Date.now() - lastCheckpointAt >= everyMs) {
      const checkpointing = Date.now();
      lastDetails = {
        readMode,
        base,
        writerCheckpoint: await writer.checkpoint(),
        nextLink: page.nextLink,
        deltaLink: fullReadDeltaLink,
        objectsRead,
      };
      lastCheckpointAt = Date.now();
      storageMs += lastCheckpointAt - checkpointing;
    }
    await writer.heartbeat();
    Context.current().heartbeat(lastDetails);
  };

  const pages: AsyncIterator<GraphPage> = (spec.singleton ? graph.single(startUrl) : graph.pages(startUrl))[
    Symbol.asyncIterator
  ]();
  // Pages are fetched one after another (Graph's links are sequential) by a reader that runs ahead of the storing,
  // so neither waits for the other while both have work; the relationships of several pages are read at once. Pages
  // are stored, and checkpointed, strictly in order.
  const ahead: {
    page: GraphPage;
    items: Record<string, unknown>[];
    parents: number;
    relationships: Promise<Relationships>;
  }[] = [];
  let parentsAhead = 0;
  const pagesAhead = spec.relationships.length === 0 ? PAGES_AHEAD_WITHOUT_RELATIONSHIPS : MAX_PAGES_AHEAD;
  const pageStored = new Wakeup();
  const pageRead = new Wakeup();
  let reading = true;
  let stopped = false;
  let readFailure: { error: unknown } | undefined;

  const readPages = async () => {
    try {
      for (let step = await pages.next(); !step.done && !stopped; step = await pages.next()) {
        // A worker shutting down (or the backup cancelled) stops the read between pages; the last checkpoint stays.
        Context.current().cancellationSignal.throwIfAborted();
        const page = step.value;
        const items = page.value.filter((item) => typeof item[spec.idProperty] === 'string');
        const parents = items.filter((item) => {
          const id = item[spec.idProperty] as string;
          if (item['@removed'] || spec.relationships.length === 0 || related.has(id)) return false;
          related.add(id);
          return true;
        });
        const relationships = readRelationships(spec, graph, parents);
        relationships.catch(() => undefined); // awaited in order when stored; not unhandled if the read stops first
        ahead.push({ page, items, parents: parents.length, relationships });
        parentsAhead += parents.length;
        pageRead.wake();
        while (!stopped && (ahead.length >= pagesAhead || parentsAhead >= MAX_PARENTS_AHEAD)) await pageStored.wait();
      }
    } catch (error) {
      readFailure = { error };
    } finally {
      reading = false;
      pageRead.wake();
    }
  };

  const reader = readPages();
  try {
    for (;;) {
      if (readFailure) throw readFailure.error;
      const next = ahead.shift();
      if (!next) {
        if (!reading) break;
        await pageRead.wait();
        continue;
      }
      parentsAhead -= next.parents;
      pageStored.wake();
      await store(next.page, next.items, await next.relationships);
    }
  } finally {
    stopped = true;
    pageStored.wake();
    await reader;
    await pages.return?.();
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
