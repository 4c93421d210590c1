import type { BlobSink, BlobSource } from './blob-io';
import { breathe } from './breather';
import { sortedById } from './sort-by-id';

/** One related item as captured: at least its id (e.g. `{"@odata.type":"#microsoft.graph.user","id":"…"}`). */
export type RelationshipItem = { id: string } & Record<string, unknown>;

/** Lists up to this size are one blob; larger ones are split so one membership change rewrites one small chunk. */
export const RELATIONSHIP_INLINE_MAX = 1000;
const CHUNK_MAX = 2048;

interface RelationshipRoot {
  v: 1;
  count: number;
  items?: RelationshipItem[];
  chunks?: string[];
}

/**
 * Chunk boundaries depend on the items' ids only (content-defined, ~1 in 256), not on positions, so adding or
 * removing one member of a 100,000-member group changes one chunk and the small root, not the whole list. The hash
 * need not be cryptographic, only well spread (FNV-1a, 32 bits): it runs for every member of every group.
 */
function isBoundary(id: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 24 === 0;
}

/**
 * Stores a relationship list (sorted by id, so the same set always has the same hash) and returns its id. Literals
 * below list their keys in canonical order (see `isCanonicalAsIs`).
 */
export async function writeRelationship(sink: BlobSink, items: readonly RelationshipItem[]): Promise<string> {
  const sorted = await sortedById(items);
  if (sorted.length <= RELATIONSHIP_INLINE_MAX) {
    const root: RelationshipRoot = { count: sorted.length, items: sorted, v: 1 };
    return sink.saveJson('relationship', root);
  }
  const chunks: string[] = [];
  let current: RelationshipItem[] = [];
  for (const item of sorted) {
    current.push(item);
    if (isBoundary(item.id) || current.length >= CHUNK_MAX) {
      chunks.push(await sink.saveJson('relationship', { items: current, v: 1 }));
      current = [];
      await breathe();
    }
  }
  if (current.length > 0) chunks.push(await sink.saveJson('relationship', { items: current, v: 1 }));
  const root: RelationshipRoot = { chunks, count: sorted.length, v: 1 };
  return sink.saveJson('relationship', root);
}

/** Blob ids a relationship list consists of (root first), for prune's mark phase. */
export async function relationshipBlobIds(source: BlobSource, rootId: string): Promise<string[]> {
  const root = await source.readJson<RelationshipRoot>(rootId);
  return [rootId, ...(root.chunks ?? [])];
}

export async function readRelationship(source: BlobSource, rootId: string): Promise<RelationshipItem[]> {
  const root = await source.readJson<RelationshipRoot>(rootId);
  if (root.items) return root.items;
  const items: RelationshipItem[] = [];
  for (const chunkId of root.chunks ?? []) {
    items.push(...(await source.readJson<{ items: RelationshipItem[] }>(chunkId)).items);
  }
  return items;
}
