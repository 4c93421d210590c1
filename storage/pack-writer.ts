import { sha256Hex } from './canonical-json';
import { sealCompressed } from './crypto';
import { sealBlob, type BlobKind, type PackedBlob } from './blob';
import type { ObjectStore } from './object-store';

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
  private parts: Buffer[] = [];
  private blobs: PackedBlob[] = [];
  private size = 0;
  private readonly pendingIds = new Set<string>();
  readonly stats = { packs: 0, bytes: 0, blobs: 0 };

  constructor(
    private readonly store: ObjectStore,
    private readonly dataKey: Buffer,
    private readonly targetSize = DEFAULT_PACK_TARGET_SIZE,
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
    return this.addSealed(id, kind, sealBlob(this.dataKey, plaintext));
  }

  /** Adds a blob that is already sealed (prune copying live blobs out of a mostly-garbage pack). */
  async addSealed(id: string, kind: BlobKind, sealed: Buffer): Promise<WrittenPack | undefined> {
    if (this.pendingIds.has(id)) return undefined;
    this.blobs.push({ id, kind, offset: this.size, length: sealed.length });
    this.parts.push(sealed);
    this.size += sealed.length;
    this.pendingIds.add(id);
    return this.size >= this.targetSize ? this.flush() : undefined;
  }

  /** Writes the pack being filled, if any. */
  async flush(): Promise<WrittenPack | undefined> {
    if (this.blobs.length === 0) return undefined;
    const blobs = this.blobs;
    const header = sealCompressed(this.dataKey, 'pack-header', Buffer.from(JSON.stringify({ v: 1, blobs }), 'utf8'));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    const bytes = Buffer.concat([...this.parts, header, length]);
    this.parts = [];
    this.blobs = [];
    this.size = 0;
    this.pendingIds.clear();
    const id = sha256Hex(bytes);
    await this.store.put(packKey(id), bytes, { ifGenerationMatch0: true });
    this.stats.packs++;
    this.stats.bytes += bytes.length;
    this.stats.blobs += blobs.length;
    return { id, size: bytes.length, blobs };
  }
}
