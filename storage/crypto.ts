import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Sealed format: [version 0x01][12-byte random nonce][AES-256-GCM ciphertext][16-byte tag].
 * The purpose string is authenticated data, so a pack header cannot be passed off as an index or a blob.
 */
const VERSION = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export type SealPurpose =
  'data-key' | 'owner' | 'segment' | 'pack-header' | 'index' | 'snapshot' | 'forget' | 'checkpoint' | 'document';

export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

export function seal(key: Buffer, purpose: SealPurpose, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export function open(key: Buffer, purpose: SealPurpose, sealed: Buffer, what = purpose as string): Buffer {
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== VERSION) {
    throw new IntegrityError(`${what}: not a sealed object (bad length or version)`);
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(purpose, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new IntegrityError(`${what}: authentication failed (modified data or wrong key)`);
  }
}

/**
 * Compress, then encrypt: ciphertext does not compress, and JSON compresses well. Much of what is sealed is small
 * (a segment ends with its type, a snapshot record is a few KB); zlib's default 32 KB window makes every call set up
 * (and clear) state for input it will never see. A window just large enough for the input compresses exactly as well
 * (it never reaches further back than the input's start) and any gunzip reads it.
 */
export function sealCompressed(key: Buffer, purpose: SealPurpose, plaintext: Buffer): Buffer {
  return seal(
    key,
    purpose,
    gzipSync(plaintext, { level: COMPRESSION_LEVEL, windowBits: gzipWindowBits(plaintext.length) }),
  );
}

/**
 * As `sealCompressed`, with the compression on libuv's thread pool: the main thread of a worker stores a
 * 100,000-user backup, and compressing its 100+ MB there took a tenth of its time. Worth it from a few KB up; for a
 * small input the hand-off costs more than compressing it here.
 */
export async function sealCompressedOffThread(key: Buffer, purpose: SealPurpose, plaintext: Buffer): Promise<Buffer> {
  const compressed = await gzipAsync(plaintext, {
    level: COMPRESSION_LEVEL,
    windowBits: gzipWindowBits(plaintext.length),
  });
  return seal(key, purpose, compressed);
}

/**
 * zlib's fast strategy (levels 1-3) compresses segments of directory objects much faster than the default level 6 for
 * a few more bytes: compression is among the largest CPU costs of a large backup.
 */
const COMPRESSION_LEVEL = 2;

/** log2 of the smallest window (zlib: 2^9 … 2^15 bytes, less its 262-byte lookahead) that spans `length` bytes. */
export function gzipWindowBits(length: number): number {
  return Math.min(15, Math.max(9, Math.ceil(Math.log2(length + 262))));
}

export function openCompressed(key: Buffer, purpose: SealPurpose, sealed: Buffer, what?: string): Buffer {
  return gunzipSync(open(key, purpose, sealed, what));
}
