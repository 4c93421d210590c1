import { sha256Hex } from './canonical-json';
import { IntegrityError, openCompressed, sealCompressedOffThread } from './crypto';
import type { BlobLocation } from './blob';
import type { ObjectInfo, ObjectStore } from './object-store';
import type { WrittenPack } from './pack-writer';

export const INDEX_PREFIX = 'index/';

export function indexKey(indexId: string): string {
  return INDEX_PREFIX + indexId;
}

interface IndexFile {
  v: 2;
  packs: WrittenPack[];
}

/** Writes an index file for packs already written (a crash before this leaves unindexed packs, never a dangling entry). */
export async function writeIndex(store: ObjectStore, dataKey: Buffer, packs: readonly WrittenPack[]): Promise<string> {
  const body: IndexFile = { v: 2, packs: [...packs] };
  const bytes = await sealCompressedOffThread(dataKey, 'index', Buffer.from(JSON.stringify(body), 'utf8'));
  const id = sha256Hex(bytes);
  await store.put(indexKey(id), bytes, { ifGenerationMatch0: true });
  return id;
}

export async function readIndex(store: ObjectStore, dataKey: Buffer, indexId: string): Promise<WrittenPack[]> {
  const bytes = await store.get(indexKey(indexId));
  if (!bytes) throw new IntegrityError(`index ${indexId} is missing`);
  if (sha256Hex(bytes) !== indexId) throw new IntegrityError(`index ${indexId}: bytes do not match its name`);
  const file = JSON.parse(openCompressed(dataKey, 'index', bytes, `index ${indexId}`).toString('utf8')) as IndexFile;
  if (file.v !== 2 || !Array.isArray(file.packs)) throw new IntegrityError(`index ${indexId}: unknown format`);
  return file.packs;
}

export interface IndexedPack {
  id: string;
  size: number;
  blobs: BlobLocation[];
  /** Index files that list this pack. */
  indexIds: Set<string>;
}

/**
 * All loaded index files merged: blob id → location. Loaded once per repository handle and refreshed
 * incrementally (only index files not seen before are read).
 */
export class MasterIndex {
  private readonly byBlob = new Map<string, BlobLocation>();
  readonly packs = new Map<string, IndexedPack>();
  readonly indexFiles = new Map<string, ObjectInfo>();

  get(blobId: string): BlobLocation | undefined {
    return this.byBlob.get(blobId);
  }

  has(blobId: string): boolean {
    return this.byBlob.has(blobId);
  }

  get blobCount(): number {
    return this.byBlob.size;
  }

  blobs(): IterableIterator<BlobLocation> {
    return this.byBlob.values();
  }

  /** `info` is given when the caller just wrote the file, so `refresh` need not read it back. */
  add(indexId: string, packs: readonly WrittenPack[], info?: ObjectInfo): void {
    if (info) this.indexFiles.set(indexId, info);
    for (const pack of packs) {
      const known = this.packs.get(pack.id);
      if (known) {
        known.indexIds.add(indexId);
        continue;
      }
      // One object per blob, shared by the pack's list and the lookup map: the index is the largest thing a
      // long-lived handle holds (about 150 bytes per blob).
      const blobs: BlobLocation[] = pack.blobs.map((b) => ({
        id: b.id,
        kind: b.kind,
        offset: b.offset,
        length: b.length,
        start: b.start,
        size: b.size,
        packId: pack.id,
      }));
      this.packs.set(pack.id, { id: pack.id, size: pack.size, blobs, indexIds: new Set([indexId]) });
      for (const blob of blobs) {
        // First copy wins; a duplicate in another pack is garbage for prune to collect.
        if (!this.byBlob.has(blob.id)) this.byBlob.set(blob.id, blob);
      }
    }
  }

  /**
   * Reads index files written since the last refresh. Returns false when an index file this one had read is gone:
   * a prune (perhaps another process's) rewrote the indexes, so locations held here may name deleted packs, and the
   * caller must load the indexes afresh.
   */
  async refresh(store: ObjectStore, dataKey: Buffer): Promise<boolean> {
    const listed = new Set<string>();
    for await (const info of store.list(INDEX_PREFIX)) {
      const id = info.key.slice(INDEX_PREFIX.length);
      listed.add(id);
      if (this.indexFiles.has(id)) continue;
      this.add(id, await readIndex(store, dataKey, id));
      this.indexFiles.set(id, info);
    }
    for (const id of this.indexFiles.keys()) if (!listed.has(id)) return false;
    return true;
  }
}
