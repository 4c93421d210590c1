import { sha256Hex } from './canonical-json';
import { SEAL_OVERHEAD, sealCompressed } from './crypto';
import { sealBlob, type BlobKind, type PackedBlob } from './blob';
import type { ObjectStore } from './object-store';
import type { SealPool } from './seal-pool';

export const DEFAULT_PACK_TARGET_SIZE = 4 * 1024 * 1024;

export function packKey(packId: string): string {
  return `packs/${packId}`;
}

export interface WrittenPack {
  id: string;
  size: number;
  blobs: PackedBlob[];
}

/**
 * Pack format: [sealed blob]... [sealed header JSON {v:1, blobs:[{id,kind,offset,length}]}] [header length, uint32 BE].
 * The pack is named by the SHA-256 of its bytes and written create-only: packs never change after they are written.
 * At most one pack's worth of sealed blobs is held in memory.
 */
export class PackWriter {
  /** Blobs of the pack being filled, in order; a blob sealed in a worker thread is a promise until flush. */
  private entries: { id: string; kind: BlobKind; sealed: Buffer | Promise<Buffer> }[] = [];
  /** Bytes of the pack being filled: sealed sizes, or half the plaintext while a thread seals it. */
  private size = 0;
  private readonly pendingIds = new Set<string>();
  readonly stats = { packs: 0, bytes: 0, blobs: 0 };

  constructor(
    private readonly store: ObjectStore,
    private readonly dataKey: Buffer,
    private readonly targetSize = DEFAULT_PACK_TARGET_SIZE,
    private readonly sealer?: SealPool,
  ) {}

  /** True if the blob is in the pack being filled (not yet in any index). */
  hasPending(id: string): boolean {
    return this.pendingIds.has(id);
  }

  get pendingBytes(): number {
    return this.size;
  }

  /** Adds a blob; returns the finished pack when this addition filled one. */
  async add(id: string, kind: BlobKind, plaintext: Buffer): Promise<WrittenPack | undefined> {
    if (this.pendingIds.has(id)) return undefined;
    if (!this.sealer) return this.addSealed(id, kind, sealBlob(this.dataKey, plaintext));
    const sealed = this.sealer.seal(this.dataKey, 'blob', plaintext);
    sealed.catch(() => undefined); // awaited by flush; not unhandled if the writer is abandoned first
    // JSON compresses to about half; the estimate only decides when the pack is full enough to write.
    return this.append(id, kind, sealed, Math.ceil(plaintext.length / 2) + SEAL_OVERHEAD);
  }

  /** Adds a blob that is already sealed (prune copying live blobs out of a mostly-garbage pack). */
  async addSealed(id: string, kind: BlobKind, sealed: Buffer): Promise<WrittenPack | undefined> {
    if (this.pendingIds.has(id)) return undefined;
    return this.append(id, kind, sealed, sealed.length);
  }

  private async append(
    id: string,
    kind: BlobKind,
    sealed: Buffer | Promise<Buffer>,
    size: number,
  ): Promise<WrittenPack | undefined> {
    this.entries.push({ id, kind, sealed });
    this.size += size;
    this.pendingIds.add(id);
    return this.size >= this.targetSize ? this.flush() : undefined;
  }

  /** Writes the pack being filled, if any. */
  async flush(): Promise<WrittenPack | undefined> {
    if (this.entries.length === 0) return undefined;
    const entries = this.entries;
    this.entries = [];
    this.size = 0;
    const parts = await Promise.all(entries.map((e) => e.sealed));
    const blobs: PackedBlob[] = [];
    let offset = 0;
    entries.forEach((e, i) => {
      blobs.push({ id: e.id, kind: e.kind, offset, length: parts[i].length });
      offset += parts[i].length;
    });
    const header = sealCompressed(this.dataKey, 'pack-header', Buffer.from(JSON.stringify({ v: 1, blobs }), 'utf8'));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    const bytes = Buffer.concat([...parts, header, length]);
    // Only this pack's ids: blobs added while it was being sealed belong to the next pack.
    for (const e of entries) this.pendingIds.delete(e.id);
    const id = sha256Hex(bytes);
    await this.store.put(packKey(id), bytes, { ifGenerationMatch0: true });
    this.stats.packs++;
    this.stats.bytes += bytes.length;
    this.stats.blobs += blobs.length;
    return { id, size: bytes.length, blobs };
  }
}
