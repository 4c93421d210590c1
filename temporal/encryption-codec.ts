import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * AES-256-GCM over every Temporal payload (workflow inputs, results, signals, updates, queries, memos, failures'
 * details), so Temporal's history holds ciphertext only. The whole original payload (metadata and data) is
 * serialized and encrypted; the outer payload names the key it was encrypted with, so keys can rotate: new payloads
 * use the current key, older ones still decrypt while their key is listed among the decryption keys.
 *
 * Layout of `data`: 12-byte IV ‖ ciphertext ‖ 16-byte tag; the key id is authenticated as additional data.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const ENCRYPTION_KEY_ID_METADATA = 'encryption-key-id';

export interface PayloadEncryptionKeys {
  /** Encrypts every new payload. */
  current: { id: string; key: Buffer };
  /** Older keys still needed to read what they encrypted. */
  previous?: { id: string; key: Buffer }[];
}

const ivBytes = 12;
const tagBytes = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  constructor(keys: PayloadEncryptionKeys) {
    for (const { id, key } of [keys.current, ...(keys.previous ?? [])]) {
      if (key.length !== 32) throw new Error(`payload encryption key '${id}' must be 32 bytes, got ${key.length}`);
      this.keys.set(id, key);
    }
    this.currentId = keys.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
      cipher.setAAD(Buffer.from(this.currentId, 'utf8'));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
          [ENCRYPTION_KEY_ID_METADATA]: encoder.encode(this.currentId),
        },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[ENCRYPTION_KEY_ID_METADATA];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`payload was encrypted with key '${keyId}', which is not configured`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < ivBytes + tagBytes) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
      decipher.setAAD(Buffer.from(keyId, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      // final() throws when the tag does not match: a wrong key or altered ciphertext never yields data.
      const plain = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
