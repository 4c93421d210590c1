import { canonicalBytes, sha256Hex } from './canonical-json';
import type { BlobKind } from './blob';
import type { BlobSink } from './blob-io';
import type { ObjectStore } from './object-store';
import { indexKey, writeIndex, type MasterIndex } from './pack-index';
import { PackWriter, type WrittenPack } from './pack-writer';

/** Unindexed blobs after which an index is written mid-run, so a resumed backup finds (and skips) what is stored. */
const INDEX_FLUSH_BLOBS = 20_000;

/**
 * Deduplicating blob writer: a blob already in the index, in the pack being filled or in a pack written by this
 * writer is not stored again. Packs go out as they fill (memory holds one pack); their index follows them.
 */
export class BlobWriter implements BlobSink {
  private readonly packs: PackWriter;
  private unindexed: WrittenPack[] = [];
  private unindexedBlobs = 0;
  private readonly writtenIds = new Set<string>();
  readonly stats = { blobsAdded: 0, blobsDeduplicated: 0, indexes: 0 };

  constructor(
    private readonly store: ObjectStore,
    private readonly dataKey: Buffer,
    private readonly index: MasterIndex,
    packTargetSize: number,
    private readonly onPackWritten: () => Promise<void> = async () => {},
  ) {
    this.packs = new PackWriter(store, dataKey, packTargetSize);
  }

  get packStats(): PackWriter['stats'] {
    return this.packs.stats;
  }

  has(id: string): boolean {
    return this.index.has(id) || this.writtenIds.has(id) || this.packs.hasPending(id);
  }

  /** Stores `plaintext` once under its SHA-256 (computed here, so an id always matches its bytes); returns the id. */
  async saveBytes(kind: BlobKind, plaintext: Buffer): Promise<string> {
    const id = sha256Hex(plaintext);
    if (this.has(id)) {
      this.stats.blobsDeduplicated++;
      return id;
    }
    this.stats.blobsAdded++;
    await this.afterPack(await this.packs.add(id, kind, plaintext));
    return id;
  }

  saveJson(kind: BlobKind, value: unknown): Promise<string> {
    return this.saveBytes(kind, canonicalBytes(value));
  }

  private async afterPack(pack: WrittenPack | undefined): Promise<void> {
    if (!pack) return;
    this.unindexed.push(pack);
    this.unindexedBlobs += pack.blobs.length;
    for (const blob of pack.blobs) this.writtenIds.add(blob.id);
    await this.onPackWritten();
    if (this.unindexedBlobs >= INDEX_FLUSH_BLOBS) await this.writeIndex();
  }

  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    const indexId = await writeIndex(this.store, this.dataKey, packs);
    this.index.add(indexId, packs, { key: indexKey(indexId), size: 0, updated: new Date() });
    this.unindexed = [];
    this.unindexedBlobs = 0;
    this.writtenIds.clear();
    this.stats.indexes++;
  }

  /** Writes the last pack, then the index of every pack not yet indexed. After this, all saved blobs are findable. */
  async flush(): Promise<void> {
    await this.afterPack(await this.packs.flush());
    await this.writeIndex();
  }
}
