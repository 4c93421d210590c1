import { sha256Hex } from './canonical-json';
import { IntegrityError, openCompressed, sealCompressed } from './crypto';

/** What a blob holds; recorded in pack headers and indexes so prune and check know roots from leaves. */
export type BlobKind = 'object' | 'relationship' | 'manifest' | 'manifest-chunk' | 'checkpoint' | 'sync-state';

/** Where one blob lives: byte range [offset, offset + length) of pack `packId`. */
export interface PackedBlob {
  id: string;
  kind: BlobKind;
  offset: number;
  length: number;
}

export interface BlobLocation extends PackedBlob {
  packId: string;
}

/** A blob as stored in a pack: gzip, then AES-256-GCM under the data key. */
export function sealBlob(dataKey: Buffer, plaintext: Buffer): Buffer {
  return sealCompressed(dataKey, 'blob', plaintext);
}

/** Decrypts a stored blob and proves it is the content its id names. */
export function openBlob(dataKey: Buffer, id: string, sealed: Buffer): Buffer {
  const plaintext = openCompressed(dataKey, 'blob', sealed, `blob ${id}`);
  if (sha256Hex(plaintext) !== id) throw new IntegrityError(`blob ${id}: content does not match its id`);
  return plaintext;
}
