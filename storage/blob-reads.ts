import { blobFromSegment, openSegment, type BlobLocation } from './blob';
import { IntegrityError } from './crypto';
import type { ObjectStore } from './object-store';
import { planRangedReads, type RangedReadLimits } from './pack-reader';
import { packKey } from './pack-writer';

/** One blob asked for: its verified plaintext, or why it could not be had. Either way, where it lives. */
export interface BlobRead {
  id: string;
  location?: BlobLocation;
  plaintext?: Buffer;
  error?: Error;
}

/** A blob that is not what its id names (or cannot be read): the message names the blob and its pack. */
export class BlobReadError extends IntegrityError {
  constructor(
    readonly blobId: string,
    readonly packId: string | undefined,
    cause: string,
  ) {
    super(`blob ${blobId}${packId ? ` in pack ${packId}` : ''}: ${cause}`);
    this.name = 'BlobReadError';
  }
}

/**
 * Reads blobs by id the way `readBlobs` does (grouped by pack, neighbours fetched in one ranged read, each segment
 * opened once), but a blob that no index lists, whose pack is missing or truncated, or whose segment or hash fails
 * is yielded with a BlobReadError instead of ending the read: verify reports every bad blob, and export names the
 * object a bad blob belongs to. Blobs come in storage order, not in the order asked.
 */
export async function* readBlobsReporting(
  store: ObjectStore,
  dataKey: Buffer,
  index: { get(id: string): BlobLocation | undefined },
  ids: Iterable<string>,
  limits: RangedReadLimits = {},
): AsyncIterable<BlobRead> {
  const found: BlobLocation[] = [];
  for (const id of new Set(ids)) {
    const loc = index.get(id);
    if (loc) found.push(loc);
    else yield { id, error: new BlobReadError(id, undefined, 'listed in no index') };
  }
  for (const { packId, start, end, locations } of planRangedReads(found, limits)) {
    let range: Buffer | undefined;
    let rangeError: string | undefined;
    try {
      range = await store.getRange(packKey(packId), start, end);
      if (range.length !== end - start) rangeError = 'the pack is truncated';
    } catch (err) {
      rangeError = `reading the pack failed: ${(err as Error).message}`;
    }
    let segment: { offset: number; plaintext?: Buffer; error?: string } | undefined;
    for (const loc of locations) {
      if (rangeError || !range) {
        yield { id: loc.id, location: loc, error: new BlobReadError(loc.id, packId, rangeError ?? 'unreadable') };
        continue;
      }
      if (segment?.offset !== loc.offset) {
        const sealed = range.subarray(loc.offset - start, loc.offset - start + loc.length);
        try {
          segment = { offset: loc.offset, plaintext: openSegment(dataKey, sealed, `segment at ${loc.offset}`) };
        } catch (err) {
          segment = { offset: loc.offset, error: (err as Error).message };
        }
      }
      if (segment.error || !segment.plaintext) {
        yield { id: loc.id, location: loc, error: new BlobReadError(loc.id, packId, segment.error ?? 'unreadable') };
        continue;
      }
      try {
        yield { id: loc.id, location: loc, plaintext: blobFromSegment(loc, segment.plaintext) };
      } catch (err) {
        yield { id: loc.id, location: loc, error: new BlobReadError(loc.id, packId, (err as Error).message) };
      }
    }
  }
}
