import { canonicalJson } from './canonical-json';
import type { BlobSink, BlobSource } from './blob-io';
import { breathe } from './breather';
import { byId, sortedById } from './sort-by-id';

export type DeletedState = 'present' | 'softDeleted';

/** One object of a type in one snapshot. */
export interface ManifestEntry {
  id: string;
  displayName: string | null;
  /** Id of the blob holding the object's canonical JSON. */
  contentHash: string;
  state: DeletedState;
  /** Relationship name → id of its relationship list blob (see relationships.ts). */
  rels?: Record<string, string>;
  /**
   * The object's values of its type's search properties (catalog `searchProperties`: UPN, mail, appId…), lower-cased,
   * so a prefix search reads manifests only; empty when the object has none of them. Absent for types without search
   * properties, and in entries written before the field existed: a search decodes those objects instead
   * (docs/storage-layout.md, "Search keys").
   */
  search?: string[];
}

/**
 * The search keys of an object: its non-empty string values of `properties` (its type's search properties),
 * lower-cased, in their order; undefined when the type declares none.
 */
export function searchKeysOf(properties: readonly string[], object: unknown): string[] | undefined {
  if (properties.length === 0 || !object || typeof object !== 'object') return undefined;
  const keys: string[] = [];
  for (const p of properties) {
    const value = (object as Record<string, unknown>)[p];
    if (typeof value === 'string' && value !== '') keys.push(value.toLowerCase());
  }
  return keys;
}

/**
 * Root blob of a type's manifest. A full manifest (base null) lists every entry in chunks. A diff manifest lists only
 * the entries added or changed since `base` plus the ids removed, so a daily snapshot at 1 % churn writes about 1 %
 * of a manifest. Chains are cut (a full manifest is written) after MAX_DIFF_DEPTH diffs or once the chain's changes
 * exceed MAX_CHAIN_CHANGE_RATIO of the entries, which bounds both read cost and what a base keeps alive.
 */
export interface ManifestRoot {
  v: 1;
  type: string;
  base: string | null;
  depth: number;
  /** Upserts + removals summed over the diff chain since the last full manifest. */
  chainChanges: number;
  count: number;
  chunks: string[];
  /** A diff's upserts, inline when few (one read per diff instead of two). */
  entries?: ManifestEntry[];
  removed: string[];
}

interface ManifestChunk {
  v: 1;
  entries: ManifestEntry[];
}

export const MANIFEST_CHUNK_ENTRIES = 5000;
/**
 * Chain limits. Changes summed over a chain may reach the manifest's own size, so diffs never cost more than twice
 * the bytes of one full manifest to read, and at 1 % daily churn a full manifest is rewritten every ~2 months rather
 * than every few weeks (the rewrite, not the diffs, dominates the cost of 30 daily snapshots).
 */
export const MAX_DIFF_DEPTH = 60;
export const MAX_CHAIN_CHANGE_RATIO = 1;
const INLINE_DIFF_ENTRIES = 1000;

export function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export async function readManifestRoot(source: BlobSource, rootId: string): Promise<ManifestRoot> {
  const root = await source.readJson<ManifestRoot>(rootId);
  if (root.v !== 1 || !Array.isArray(root.chunks)) throw new Error(`manifest ${rootId}: unknown format`);
  return root;
}

/** The roots of a manifest chain, from the full manifest to `rootId`. */
export async function readManifestChain(
  source: BlobSource,
  rootId: string,
): Promise<{ id: string; root: ManifestRoot }[]> {
  const chain: { id: string; root: ManifestRoot }[] = [];
  let id: string | null = rootId;
  while (id) {
    const root = await readManifestRoot(source, id);
    chain.unshift({ id, root });
    id = root.base;
  }
  return chain;
}

/** An entry without its search keys: what a reader that never searches needs (an export of 100,000 users). */
export function withoutSearchKeys(entry: ManifestEntry): ManifestEntry {
  if (entry.search === undefined) return entry;
  const { search: _search, ...rest } = entry;
  return rest;
}

/**
 * Every entry of a manifest, resolved through its diff chain. `keep` maps each entry as its chunk is read (e.g.
 * `withoutSearchKeys`), so what it drops is never held for the whole type, only for one chunk.
 */
export async function readManifestEntries(
  source: BlobSource,
  rootId: string,
  keep: (entry: ManifestEntry) => ManifestEntry = (entry) => entry,
): Promise<Map<string, ManifestEntry>> {
  const entries = new Map<string, ManifestEntry>();
  for (const { root } of await readManifestChain(source, rootId)) {
    for (const id of root.removed) entries.delete(id);
    for (const entry of root.entries ?? []) entries.set(entry.id, keep(entry));
    for (const chunkId of root.chunks) {
      for (const entry of (await source.readJson<ManifestChunk>(chunkId)).entries) entries.set(entry.id, keep(entry));
    }
  }
  return entries;
}

async function writeChunks(sink: BlobSink, unsorted: ManifestEntry[]): Promise<string[]> {
  const entries = await sortedById(unsorted);
  const chunks: string[] = [];
  for (let i = 0; i < entries.length; i += MANIFEST_CHUNK_ENTRIES) {
    // Keys in canonical order (see `isCanonicalAsIs`): a chunk of 5,000 entries serialises at V8's speed.
    const chunk: ManifestChunk = { entries: entries.slice(i, i + MANIFEST_CHUNK_ENTRIES), v: 1 };
    chunks.push(await sink.saveJson('manifest-chunk', chunk));
    await breathe();
  }
  return chunks;
}

export interface ManifestUpdate {
  type: string;
  base?: { id: string; root: ManifestRoot };
  /** The type's complete entry set after this snapshot. */
  entries: ReadonlyMap<string, ManifestEntry>;
  /** Ids added or changed relative to `base`. */
  upserted: ReadonlySet<string>;
  /** Ids of `base` that are gone. */
  removed: ReadonlySet<string>;
}

/** Writes a type's manifest (diff when worthwhile) and returns its root id; an unchanged type reuses its base. */
export async function writeManifest(sink: BlobSink, update: ManifestUpdate): Promise<string> {
  const { base, entries, upserted, removed } = update;
  const changes = upserted.size + removed.size;
  if (base && changes === 0 && base.root.count === entries.size) return base.id;
  const chainChanges = (base?.root.chainChanges ?? 0) + changes;
  const asDiff =
    base !== undefined &&
    base.root.depth + 1 <= MAX_DIFF_DEPTH &&
    chainChanges <= MAX_CHAIN_CHANGE_RATIO * Math.max(entries.size, 1);
  const diffEntries = asDiff
    ? [...upserted].map((id) => entries.get(id)).filter((e): e is ManifestEntry => e !== undefined)
    : [];
  const inline = diffEntries.length <= INLINE_DIFF_ENTRIES;
  const root: ManifestRoot = asDiff
    ? {
        v: 1,
        type: update.type,
        base: base.id,
        depth: base.root.depth + 1,
        chainChanges,
        count: entries.size,
        chunks: inline ? [] : await writeChunks(sink, diffEntries),
        ...(inline ? { entries: diffEntries.sort(byId) } : {}),
        removed: [...removed].sort(),
      }
    : {
        v: 1,
        type: update.type,
        base: null,
        depth: 0,
        chainChanges: 0,
        count: entries.size,
        chunks: await writeChunks(sink, [...entries.values()]),
        removed: [],
      };
  return sink.saveJson('manifest', root);
}
