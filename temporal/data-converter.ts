import type { DataConverter } from '@temporalio/common';
import type { PayloadEncryptionConfig } from '../temporal.config';
import { EncryptionCodec } from './encryption-codec';

/** The module whose `failureConverter` clients, workers and workflow bundles use. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * Every client and worker of the product builds its data converter here, so all of them encrypt every payload (and
 * failure messages, see failure-converter.ts) with the same codec and keys; a process with another key cannot read
 * (or write) what the others do.
 */
export function createDataConverter(encryption: PayloadEncryptionConfig): DataConverter {
  return { payloadCodecs: [createEncryptionCodec(encryption)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

export function createEncryptionCodec(encryption: PayloadEncryptionConfig): EncryptionCodec {
  return new EncryptionCodec({
    current: { id: encryption.keyId, key: Buffer.from(encryption.key, 'base64') },
    previous: encryption.previousKeys.map(({ id, key }) => ({ id, key: Buffer.from(key, 'base64') })),
  });
}
