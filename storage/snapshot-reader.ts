import type { BlobSource } from './blob-io';
import { IntegrityError } from './crypto';
import { readManifestEntries, readManifestRoot, type ManifestEntry, type ManifestRoot } from './manifest';
import type { RelationshipItem } from './relationships';
import type { BlobNotFoundError, Repository, SnapshotInfo } from './repository';
import type { ChainReport, SnapshotRecord, TypeCoverage } from './snapshot';
import { LruCache } from './lru-cache';

/**
 * The read side of a repository for browsing and comparing: snapshots, the types and objects of one snapshot, one
 * object with its relationships and its version history. Manifests and objects are content-addressed and never
 * change, so what is read is cached by id (bounded); only the list of snapshots is read again each time.
 */

/** A snapshot, type or object that does not exist (or that retention has forgotten). */
export class BrowseNotFoundError extends Error {
  constructor(readonly what: string) {
    super(`${what} was not found`);
    this.name = 'BrowseNotFoundError';
  }
}

/**
 * Stored data that fails its integrity check (authentication or hash). Names what was being read and the pack that
 * holds it, so an operator can run a check and restore the pack; the data itself is never returned.
 */
export class CorruptDataError extends Error {
  constructor(
    readonly what: string,
    readonly blobId: string,
    readonly packId: string | undefined,
    override readonly cause: Error,
  ) {
    super(`${what} failed its integrity check: blob ${blobId} in pack ${packId ?? '(unknown)'} (${cause.message})`);
    this.name = 'CorruptDataError';
  }
}

export interface SnapshotSummary {
  id: string;
  startedAt: string;
  finishedAt: string;
  /** Every type captured (none skipped). */
  complete: boolean;
  /** Objects per captured type (soft-deleted included), and how many of them are in the recycle bin. */
  counts: Record<string, { count: number; softDeleted: number }>;
  coverage: SnapshotRecord['types'];
  /** The record is a verified link of the one hash chain of the tenant's snapshots. */
  chainVerified: boolean;
}

export type RelationshipRef = { id: string; type: string | null; displayName: string | null };

export type HistoryEvent = 'captured' | 'created' | 'changed' | 'soft-deleted' | 'restored' | 'deleted';

export interface HistoryItem {
  snapshotId: string;
  startedAt: string;
  event: HistoryEvent;
  /** The object's content differs from the previous snapshot that captured its type. */
  contentChanged: boolean;
  /** Relationships whose items differ from that snapshot. */
  relationshipsChanged: string[];
}

/** How related items are named: which catalog types to look them up in, and how a type is read off `@odata.type`. */
export interface NamingRules {
  targets(type: string, relationship: string): readonly string[];
  typeOfOdataType(odataType: string): string | undefined;
}

type Captured = TypeCoverage & { status: 'captured' };
type IndexedRoot = ManifestRoot & { inline: Map<string, ManifestEntry>; removedIds: Set<string> };

export class SnapshotReader {
  private readonly roots = new LruCache<string, IndexedRoot>(512);
  private readonly chunks = new LruCache<string, ManifestEntry[]>(32);
  private readonly entryMaps = new LruCache<string, Promise<Map<string, ManifestEntry>>>(4);
  private readonly blobs: BlobSource;

  constructor(
    readonly repo: Repository,
    private readonly naming: NamingRules,
  ) {
    this.blobs = { readJson: (id) => this.readJson(id, 'manifest') };
  }

  // ---- reading blobs with integrity errors that say what failed ----------------------------------------------

  private async readJson<T>(id: string, what: string): Promise<T> {
    try {
      return JSON.parse((await this.repo.readBlob(id)).toString('utf8')) as T;
    } catch (err) {
      throw this.explain(err, id, what);
    }
  }

  private explain(err: unknown, id: string, what: string): unknown {
    if (err instanceof IntegrityError || err instanceof SyntaxError) {
      return new CorruptDataError(what, id, this.repo.locate(id)?.packId, err);
    }
    if ((err as BlobNotFoundError).name === 'BlobNotFoundError') {
      return new CorruptDataError(what, id, undefined, err as Error);
    }
    return err;
  }

  /**
   * Object versions by content hash, read together (only the packs holding them, neighbours coalesced). A failed
   * batch is read again blob by blob so that the error names each object that is damaged, not its neighbours.
   */
  async readObjects(type: string, entries: readonly ManifestEntry[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    try {
      for await (const { id, plaintext } of this.repo.readBlobBatch(entries.map((e) => e.contentHash))) {
        out.set(id, JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>);
      }
      return out;
    } catch (err) {
      if (!(err instanceof IntegrityError) && (err as Error).name !== 'BlobNotFoundError') throw err;
    }
    const failures: CorruptDataError[] = [];
    for (const e of entries) {
      if (out.has(e.contentHash)) continue;
      try {
        out.set(e.contentHash, await this.readJson(e.contentHash, `${type} object ${e.id}`));
      } catch (err) {
        if (!(err instanceof CorruptDataError)) throw err;
        failures.push(err);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const first = failures[0];
      throw new CorruptDataError(
        failures.map((f) => f.what).join(', '),
        first.blobId,
        [...new Set(failures.map((f) => f.packId))].join(', '),
        first.cause,
      );
    }
    return out;
  }

  async readObject(type: string, entry: ManifestEntry): Promise<Record<string, unknown>> {
    return this.readJson(entry.contentHash, `${type} object ${entry.id}`);
  }

  async readRelationship(id: string, what: string): Promise<RelationshipItem[]> {
    const root = await this.readJson<{ items?: RelationshipItem[]; chunks?: string[] }>(id, what);
    if (root.items) return root.items;
    const items: RelationshipItem[] = [];
    for (const chunk of root.chunks ?? [])
      items.push(...(await this.readJson<{ items: RelationshipItem[] }>(chunk, what)).items);
    return items;
  }

  // ---- snapshots ------------------------------------------------------------------------------------------------

  /** Kept snapshots, newest first, with the chain's verdict on each. */
  async snapshots(): Promise<{ items: SnapshotSummary[]; chain: ChainReport }> {
    const [list, chain] = await Promise.all([this.repo.listSnapshots(), this.repo.verifyChain()]);
    const inChain = new Set(chain.order);
    const items = list.reverse().map(({ id, record }) => ({
      id,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      complete: Object.values(record.types).every((t) => t.status === 'captured'),
      counts: Object.fromEntries(
        Object.entries(record.types)
          .filter((e): e is [string, Captured] => e[1].status === 'captured')
          .map(([type, t]) => [type, { count: t.count, softDeleted: t.softDeleted }]),
      ),
      coverage: record.types,
      chainVerified: inChain.has(id) && !chain.problems.some((p) => p.includes(id)),
    }));
    return { items, chain };
  }

  /**
   * A kept snapshot; a forgotten or unknown one is not found. `kept`: the list of kept snapshots when the caller has
   * it already (listing them is two listings of the store).
   */
  async snapshot(id: string, kept?: readonly SnapshotInfo[]): Promise<SnapshotInfo> {
    const found = (kept ?? (await this.repo.listSnapshots())).find((s) => s.id === id);
    if (!found) throw new BrowseNotFoundError(`snapshot '${id}'`);
    return found;
  }

  /** The type's coverage in a snapshot; not found when the snapshot does not know the type or skipped it. */
  captured(snapshot: SnapshotInfo, type: string): Captured {
    const coverage = snapshot.record.types[type];
    if (!coverage) throw new BrowseNotFoundError(`type '${type}' in snapshot '${snapshot.id}'`);
    if (coverage.status !== 'captured') {
      throw new BrowseNotFoundError(`type '${type}' in snapshot '${snapshot.id}' (not captured: ${coverage.reason})`);
    }
    return coverage;
  }

  // ---- manifests ----------------------------------------------------------------------------------------------

  /** Every entry of a manifest (cached: a manifest never changes). */
  entries(manifestId: string): Promise<Map<string, ManifestEntry>> {
    let cached = this.entryMaps.get(manifestId);
    if (!cached) {
      cached = readManifestEntries(this.blobs, manifestId);
      cached.catch(() => undefined);
      this.entryMaps.set(manifestId, cached);
    }
    return cached;
  }

  /** A type's entries sorted by id. */
  async sortedEntries(manifestId: string): Promise<ManifestEntry[]> {
    return [...(await this.entries(manifestId)).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A manifest root with its inline entries and removals indexed (a diff holds up to 1,000 of each). */
  private async root(id: string): Promise<IndexedRoot> {
    let root = this.roots.get(id);
    if (!root) {
      const plain = await readManifestRoot(this.blobs, id);
      root = {
        ...plain,
        inline: new Map((plain.entries ?? []).map((e) => [e.id, e])),
        removedIds: new Set(plain.removed),
      };
      this.roots.set(id, root);
    }
    return root;
  }

  private async chunk(id: string): Promise<ManifestEntry[]> {
    let entries = this.chunks.get(id);
    if (!entries) {
      entries = (await this.readJson<{ entries: ManifestEntry[] }>(id, 'manifest chunk')).entries;
      this.chunks.set(id, entries);
    }
    return entries;
  }

  /** Binary search over chunks sorted by id (each chunk's entries sorted too): a few chunk reads, not all. */
  private async searchChunks(chunkIds: readonly string[], objectId: string): Promise<ManifestEntry | undefined> {
    let lo = 0;
    let hi = chunkIds.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entries = await this.chunk(chunkIds[mid]);
      if (entries.length === 0) return undefined;
      if (objectId < entries[0].id) hi = mid - 1;
      else if (objectId > entries[entries.length - 1].id) lo = mid + 1;
      else return entries.find((e) => e.id === objectId);
    }
    return undefined;
  }

  /**
   * One object's entry in a manifest without resolving the whole manifest: walk the diff chain from the newest root
   * back to the full manifest; the first root that upserts or removes the id decides.
   */
  async findEntry(manifestId: string, objectId: string): Promise<ManifestEntry | undefined> {
    const cached = this.entryMaps.get(manifestId);
    if (cached) return (await cached).get(objectId);
    for (let id: string | null = manifestId; id;) {
      const root: IndexedRoot = await this.root(id);
      const inline = root.inline.get(objectId);
      if (inline) return inline;
      const chunked = await this.searchChunks(root.chunks, objectId);
      if (chunked) return chunked;
      if (root.removedIds.has(objectId)) return undefined;
      id = root.base;
    }
    return undefined;
  }

  /** The entries of `ids` in a manifest (all of them without `ids`), found one by one through its chain. */
  async entriesOf(manifestId: string, ids?: ReadonlySet<string>): Promise<Map<string, ManifestEntry>> {
    if (!ids) return this.entries(manifestId);
    const out = new Map<string, ManifestEntry>();
    for (const id of ids) {
      const entry = await this.findEntry(manifestId, id);
      if (entry) out.set(id, entry);
    }
    return out;
  }

  /**
   * Ids whose entries may differ between two manifests of a type, when one is an ancestor of the other in a diff
   * chain: the ids the diffs between them upserted or removed. Undefined when a full manifest lies between them (or
   * they are unrelated): then every entry must be compared.
   */
  async changedBetween(a: string, b: string): Promise<Set<string> | undefined> {
    if (a === b) return new Set();
    const walk = async (older: string, newer: string): Promise<Set<string> | undefined> => {
      const ids = new Set<string>();
      for (let id: string | null = newer; id;) {
        if (id === older) return ids;
        const root: IndexedRoot = await this.root(id);
        if (root.base === null) return undefined;
        for (const key of root.inline.keys()) ids.add(key);
        for (const chunk of root.chunks) for (const e of await this.chunk(chunk)) ids.add(e.id);
        for (const removed of root.removedIds) ids.add(removed);
        id = root.base;
      }
      return undefined;
    };
    return (await walk(a, b)) ?? (await walk(b, a));
  }

  // ---- search --------------------------------------------------------------------------------------------------

  /**
   * The entries whose id, display name or value of one of `properties` (the type's search properties: UPN, mail,
   * appId…) starts with `prefix` (lower-case), in their order. The manifest holds all of them: the properties' values
   * as each entry's search keys (`ManifestEntry.search`, written at backup time). Only entries written before search
   * keys existed lack them; their objects are read instead, in batches (packs coalesced).
   */
  async search(
    type: string,
    entries: readonly ManifestEntry[],
    prefix: string,
    properties: readonly string[],
  ): Promise<ManifestEntry[]> {
    const matched = new Set<ManifestEntry>();
    const unindexed: ManifestEntry[] = [];
    for (const e of entries) {
      if (startsWith(e.id, prefix) || startsWith(e.displayName, prefix)) matched.add(e);
      else if (e.search) {
        if (e.search.some((key) => key.startsWith(prefix))) matched.add(e);
      } else if (properties.length > 0) unindexed.push(e);
    }
    for (let i = 0; i < unindexed.length; i += SEARCH_BATCH) {
      const batch = unindexed.slice(i, i + SEARCH_BATCH);
      const objects = await this.readObjects(type, batch);
      for (const e of batch) {
        const o = objects.get(e.contentHash);
        if (properties.some((p) => startsWith(o?.[p], prefix))) matched.add(e);
      }
    }
    return entries.filter((e) => matched.has(e));
  }

  // ---- naming related items ---------------------------------------------------------------------------------------

  /**
   * Id, catalog type and display name of related items, looked up in the snapshot's manifests of the relationship's
   * target types. An assignment is named by the object at its other end (its principal or resource, whichever is not
   * the parent).
   */
  async describe(
    snapshots: readonly SnapshotInfo[],
    type: string,
    relationship: string,
    parentId: string,
    items: readonly RelationshipItem[],
  ): Promise<RelationshipRef[]> {
    const targets = this.naming.targets(type, relationship);
    const out: RelationshipRef[] = [];
    for (const item of items) {
      const odata = typeof item['@odata.type'] === 'string' ? item['@odata.type'] : undefined;
      let itemType = odata ? (this.naming.typeOfOdataType(odata) ?? null) : null;
      let displayName = typeof item.displayName === 'string' ? item.displayName : null;
      const candidates = [item.id, item.principalId, item.resourceId].filter(
        (c): c is string => typeof c === 'string' && c !== parentId,
      );
      const searchTypes = itemType ? [itemType] : targets;
      search: for (const candidate of displayName === null ? candidates : []) {
        for (const snapshot of snapshots) {
          for (const t of searchTypes) {
            const coverage = snapshot.record.types[t];
            if (coverage?.status !== 'captured') continue;
            const entry = await this.findEntry(coverage.manifest, candidate);
            if (entry) {
              displayName = entry.displayName;
              itemType ??= t;
              break search;
            }
          }
        }
      }
      out.push({ id: item.id, type: itemType, displayName });
    }
    return out;
  }

  // ---- history --------------------------------------------------------------------------------------------------

  /**
   * The kept snapshots in which the object's content, state or relationships changed (newest first). Snapshots that
   * skipped the type say nothing about it and are passed over. `kept`: the kept snapshots, oldest first, when the
   * caller has listed them already.
   */
  async history(type: string, objectId: string, kept?: readonly SnapshotInfo[]): Promise<HistoryItem[]> {
    const snapshots = kept ?? (await this.repo.listSnapshots());
    const items: HistoryItem[] = [];
    let previous: ManifestEntry | undefined;
    let seenType = false;
    const byManifest = new Map<string, ManifestEntry | undefined>();
    for (const { id, record } of snapshots) {
      const coverage = record.types[type];
      if (coverage?.status !== 'captured') continue;
      let entry: ManifestEntry | undefined;
      if (byManifest.has(coverage.manifest)) entry = byManifest.get(coverage.manifest);
      else {
        entry = await this.findEntry(coverage.manifest, objectId);
        byManifest.set(coverage.manifest, entry);
      }
      const event = historyEvent(previous, entry, seenType);
      seenType = true;
      if (event) {
        const rels = new Set([...Object.keys(previous?.rels ?? {}), ...Object.keys(entry?.rels ?? {})]);
        items.push({
          snapshotId: id,
          startedAt: record.startedAt,
          event,
          contentChanged: previous !== undefined && entry !== undefined && previous.contentHash !== entry.contentHash,
          relationshipsChanged:
            previous && entry ? [...rels].filter((r) => previous?.rels?.[r] !== entry?.rels?.[r]).sort() : [],
        });
      }
      previous = entry;
    }
    return items.reverse();
  }
}

/** Objects decoded at a time by a search of entries without search keys. */
const SEARCH_BATCH = 2000;

const startsWith = (value: unknown, prefix: string) =>
  typeof value === 'string' && value.toLowerCase().startsWith(prefix);

function historyEvent(
  previous: ManifestEntry | undefined,
  entry: ManifestEntry | undefined,
  seenType: boolean,
): HistoryEvent | undefined {
  if (!previous && !entry) return undefined;
  if (!previous) return seenType ? 'created' : 'captured';
  if (!entry) return 'deleted';
  if (previous.state === 'present' && entry.state === 'softDeleted') return 'soft-deleted';
  if (previous.state === 'softDeleted' && entry.state === 'present') return 'restored';
  const sameRels =
    JSON.stringify(Object.entries(previous.rels ?? {}).sort()) ===
    JSON.stringify(Object.entries(entry.rels ?? {}).sort());
  if (previous.contentHash !== entry.contentHash || !sameRels) return 'changed';
  return undefined;
}
