import { sha256Hex } from './canonical-json';
import { IntegrityError, openCompressed } from './crypto';
import { blobFromSegment, openSegment, type BlobLocation, type PackedBlob } from './blob';
import { packKey } from './pack-writer';
import type { ObjectStore } from './object-store';

function parseHeader(dataKey: Buffer, packId: string, sealedHeader: Buffer): PackedBlob[] {
  const json = openCompressed(dataKey, 'pack-header', sealedHeader, `pack ${packId} header`);
  const header = JSON.parse(json.toString('utf8')) as { v: number; blobs: PackedBlob[] };
  if (header.v !== 2 || !Array.isArray(header.blobs)) throw new IntegrityError(`pack ${packId}: unknown header format`);
  return header.blobs;
}

/** Verifies a whole pack (name = hash of bytes) and returns its header. Used by check and prune's repack. */
export function parsePack(dataKey: Buffer, packId: string, bytes: Buffer): PackedBlob[] {
  if (sha256Hex(bytes) !== packId) throw new IntegrityError(`pack ${packId}: bytes do not match the pack's name`);
  if (bytes.length < 4) throw new IntegrityError(`pack ${packId}: truncated`);
  const headerLength = bytes.readUInt32BE(bytes.length - 4);
  if (headerLength > bytes.length - 4) throw new IntegrityError(`pack ${packId}: bad header length`);
  return parseHeader(dataKey, packId, bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4));
}

/**
 * Every blob of a parsed pack with its verified plaintext, opening each segment once. A blob that fails is given
 * with its error instead, so check can report each one and go on.
 */
export function* packBlobs(
  dataKey: Buffer,
  packId: string,
  bytes: Buffer,
  blobs: readonly PackedBlob[],
): Iterable<{ blob: PackedBlob; plaintext?: Buffer; error?: Error }> {
  let opened: { offset: number; plaintext?: Buffer; error?: Error } | undefined;
  for (const blob of blobs) {
    if (opened?.offset !== blob.offset) {
      try {
        const sealed = bytes.subarray(blob.offset, blob.offset + blob.length);
        opened = {
          offset: blob.offset,
          plaintext: openSegment(dataKey, sealed, `pack ${packId} segment ${blob.offset}`),
        };
      } catch (err) {
        opened = { offset: blob.offset, error: err as Error };
      }
    }
    if (opened.error) {
      yield { blob, error: opened.error };
      continue;
    }
    try {
      yield { blob, plaintext: blobFromSegment(blob, opened.plaintext!) };
    } catch (err) {
      yield { blob, error: err as Error };
    }
  }
}

/** Reads only a pack's header with two ranged reads (for rebuilding an index without downloading packs). */
export async function readPackHeader(
  store: ObjectStore,
  dataKey: Buffer,
  packId: string,
  size: number,
): Promise<PackedBlob[]> {
  const tail = await store.getRange(packKey(packId), size - 4, size);
  const headerLength = tail.readUInt32BE(0);
  const sealed = await store.getRange(packKey(packId), size - 4 - headerLength, size - 4);
  return parseHeader(dataKey, packId, sealed);
}

/** Reads one blob with a single ranged read (its segment) and verifies it. */
export async function readBlob(store: ObjectStore, dataKey: Buffer, loc: BlobLocation): Promise<Buffer> {
  const sealed = await store.getRange(packKey(loc.packId), loc.offset, loc.offset + loc.length);
  if (sealed.length !== loc.length) throw new IntegrityError(`blob ${loc.id}: pack ${loc.packId} is truncated`);
  return blobFromSegment(loc, openSegment(dataKey, sealed, `blob ${loc.id} in pack ${loc.packId}`));
}

/** Limits of one ranged read: neighbours closer than `maxGap` share it, and it spans at most `maxSpan` bytes. */
export interface RangedReadLimits {
  maxGap?: number;
  maxSpan?: number;
}

/** One ranged read of a pack, and the blobs (sorted by offset) it holds. */
export interface RangedRead {
  packId: string;
  start: number;
  end: number;
  locations: BlobLocation[];
}

/**
 * Plans the fewest ranged reads for a set of blobs: grouped by pack, sorted by offset, neighbours closer than
 * `maxGap` fetched together in a read of at most `maxSpan` bytes (so memory stays bounded).
 */
export function* planRangedReads(
  locations: Iterable<BlobLocation>,
  { maxGap = 256 * 1024, maxSpan = 8 * 1024 * 1024 }: RangedReadLimits = {},
): Iterable<RangedRead> {
  const byPack = new Map<string, BlobLocation[]>();
  for (const loc of locations) {
    const list = byPack.get(loc.packId) ?? [];
    list.push(loc);
    byPack.set(loc.packId, list);
  }
  for (const [packId, locs] of byPack) {
    locs.sort((a, b) => a.offset - b.offset || a.start - b.start);
    let i = 0;
    while (i < locs.length) {
      const start = locs[i].offset;
      let end = start + locs[i].length;
      let j = i + 1;
      while (j < locs.length && locs[j].offset - end <= maxGap && locs[j].offset + locs[j].length - start <= maxSpan) {
        end = Math.max(end, locs[j].offset + locs[j].length);
        j++;
      }
      yield { packId, start, end, locations: locs.slice(i, j) };
      i = j;
    }
  }
}

/**
 * Reads many blobs with few requests (`planRangedReads`). Each segment is opened once however many of its blobs are
 * asked for.
 */
export async function* readBlobs(
  store: ObjectStore,
  dataKey: Buffer,
  locations: Iterable<BlobLocation>,
  limits: RangedReadLimits = {},
): AsyncIterable<{ location: BlobLocation; plaintext: Buffer }> {
  for (const { packId, start, end, locations: locs } of planRangedReads(locations, limits)) {
    const range = await store.getRange(packKey(packId), start, end);
    if (range.length !== end - start) throw new IntegrityError(`pack ${packId} is truncated`);
    let segment: { offset: number; plaintext: Buffer } | undefined;
    for (const loc of locs) {
      if (segment?.offset !== loc.offset) {
        const sealed = range.subarray(loc.offset - start, loc.offset - start + loc.length);
        segment = { offset: loc.offset, plaintext: openSegment(dataKey, sealed, `blob ${loc.id} in pack ${packId}`) };
      }
      yield { location: loc, plaintext: blobFromSegment(loc, segment.plaintext) };
    }
  }
}
