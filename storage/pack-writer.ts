import { sha256Hex } from './canonical-json';
import { sealCompressedOffThread } from './crypto';
import { sealSegment, type BlobKind, type PackedBlob } from './blob';
import type { ObjectStore } from './object-store';

export const DEFAULT_PACK_TARGET_SIZE = 4 * 1024 * 1024;
/**
 * Plaintext per segment. Reading one blob reads and opens its whole segment, so this bounds that cost (a ranged read
 * of ~10-20 KB); larger segments compress only slightly better.
 */
export const MAX_SEGMENT_SIZE = 64 * 1024;

export function packKey(packId: string): string {
  return `packs/${packId}`;
}

export interface WrittenPack {
  id: string;
  size: number;
  blobs: PackedBlob[];
}

/** Segments being compressed at once (off the main thread); adding waits beyond this, so memory stays bounded. */
const SEGMENTS_SEALING = 4;

interface Segment {
  blobs: { id: string; kind: BlobKind; start: number; size: number }[];
  plaintextSize: number;
  sealing: Promise<Buffer>;
  sealed?: Buffer;
  /** Taken by `flush`: its size no longer counts towards the pack being filled. */
  flushed?: boolean;
}

/**
 * Pack format: [sealed segment]... [sealed header JSON {v:2, blobs:[{id,kind,offset,length,start,size}]}]
 * [header length, uint32 BE]. A segment is consecutive blobs sealed together (see `sealSegment`); a blob larger than
 * a segment gets one of its own. The pack is named by the SHA-256 of its bytes and written create-only: packs never
 * change after they are written. At most one pack's worth of sealed segments is held in memory.
 */
export class PackWriter {
  /** Segments of the pack being filled, in order: sealed, or being sealed. */
  private segments: Segment[] = [];
  /** Bytes of the pack being filled: sealed sizes, plaintext sizes while sealing (an upper bound). */
  private size = 0;
  /** The segment being filled. */
  private open: Buffer[] = [];
  private openBlobs: Segment['blobs'] = [];
  private openSize = 0;
  private readonly segmentSize: number;
  private readonly pendingIds = new Set<string>();
  readonly stats = { packs: 0, bytes: 0, blobs: 0 };

  constructor(
    private readonly store: ObjectStore,
    private readonly dataKey: Buffer,
    private readonly targetSize = DEFAULT_PACK_TARGET_SIZE,
  ) {
    // Small packs (tests) get small segments, so that they still hold several.
    this.segmentSize = Math.min(MAX_SEGMENT_SIZE, Math.max(1024, Math.floor(targetSize / 8)));
  }

  /** True if the blob is in the pack being filled (not yet in any index). */
  hasPending(id: string): boolean {
    return this.pendingIds.has(id);
  }

  /** Adds a blob; returns the finished pack when this addition filled one. */
  async add(id: string, kind: BlobKind, plaintext: Buffer): Promise<WrittenPack | undefined> {
    if (this.pendingIds.has(id)) return undefined;
    if (this.openSize > 0 && this.openSize + plaintext.length > this.segmentSize) this.sealOpenSegment();
    this.open.push(plaintext);
    this.openBlobs.push({ id, kind, start: this.openSize, size: plaintext.length });
    this.openSize += plaintext.length;
    this.pendingIds.add(id);
    if (this.openSize >= this.segmentSize) {
      this.sealOpenSegment();
      await this.limitSealing();
    }
    if (this.size + this.openSize < this.targetSize) return undefined;
    // Segments being sealed count at their plaintext size; their sealed sizes decide whether the pack is full.
    await Promise.allSettled(this.segments.map((s) => s.sealing));
    return this.size + this.openSize >= this.targetSize ? this.flush() : undefined;
  }

  private sealOpenSegment(): void {
    if (this.open.length === 0) return;
    const plaintext = this.open.length === 1 ? this.open[0] : Buffer.concat(this.open, this.openSize);
    const segment: Segment = {
      blobs: this.openBlobs,
      plaintextSize: this.openSize,
      sealing: sealSegment(this.dataKey, plaintext),
    };
    segment.sealing.then(
      (sealed) => {
        segment.sealed = sealed;
        if (!segment.flushed) this.size += sealed.length - segment.plaintextSize;
      },
      () => undefined, // flush awaits it and fails; not unhandled if the writer is abandoned first
    );
    this.segments.push(segment);
    this.size += this.openSize;
    this.open = [];
    this.openBlobs = [];
    this.openSize = 0;
  }

  private async limitSealing(): Promise<void> {
    for (;;) {
      const sealing = this.segments.filter((s) => !s.sealed);
      if (sealing.length <= SEGMENTS_SEALING) return;
      await sealing[0].sealing;
    }
  }

  /** Writes the pack being filled, if any. */
  async flush(): Promise<WrittenPack | undefined> {
    this.sealOpenSegment();
    if (this.segments.length === 0) return undefined;
    const segments = this.segments;
    for (const segment of segments) segment.flushed = true;
    this.segments = [];
    this.size = 0;
    const parts = await Promise.all(segments.map((s) => s.sealing));
    const blobs: PackedBlob[] = [];
    let offset = 0;
    segments.forEach((segment, i) => {
      for (const b of segment.blobs) {
        blobs.push({ id: b.id, kind: b.kind, offset, length: parts[i].length, start: b.start, size: b.size });
      }
      offset += parts[i].length;
    });
    const header = await sealCompressedOffThread(
      this.dataKey,
      'pack-header',
      Buffer.from(JSON.stringify({ v: 2, blobs }), 'utf8'),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    const bytes = Buffer.concat([...parts, header, length]);
    // A failed write must not leave ids that look stored: the caller's retry adds them again.
    for (const b of blobs) this.pendingIds.delete(b.id);
    const id = sha256Hex(bytes);
    await this.store.put(packKey(id), bytes, { ifGenerationMatch0: true });
    this.stats.packs++;
    this.stats.bytes += bytes.length;
    this.stats.blobs += blobs.length;
    return { id, size: bytes.length, blobs };
  }
}
