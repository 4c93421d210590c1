import type { DataConverter } from '@temporalio/common';
import type { PayloadEncryptionConfig } from '../temporal.config';
import { EncryptionCodec } from './encryption-codec';

/**
 * Every client and worker of the product builds its data converter here, so all of them encrypt every payload with
 * the same codec and keys; a process with another key cannot read (or write) what the others do.
 */
export function createDataConverter(encryption: PayloadEncryptionConfig): DataConverter {
  return { payloadCodecs: [createEncryptionCodec(encryption)] };
}

export function createEncryptionCodec(encryption: PayloadEncryptionConfig): EncryptionCodec {
  return new EncryptionCodec({
    current: { id: encryption.keyId, key: Buffer.from(encryption.key, 'base64') },
    previous: encryption.previousKeys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
  });
}
