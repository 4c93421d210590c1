import { Storage } from '@google-cloud/storage';
import type { StorageConfig } from '../temporal.config';

/**
 * The one way the product builds its `@google-cloud/storage` client. Against the emulator `apiEndpoint` is set and
 * the library sends no credentials to it; in production it is unset and Application Default Credentials (or
 * `keyFilename`) authenticate against Google Cloud Storage.
 */
export function createStorageClient(
  config: Pick<StorageConfig, 'projectId' | 'requestTimeoutMs'> & Partial<StorageConfig>,
): Storage {
  return new Storage({
    projectId: config.projectId,
    // Without it the library sends requests with no timeout at all: a request that stalls (seen with the emulator)
    // holds its activity forever, past the heartbeat timeout that already retried it, and blocks worker shutdown.
    timeout: config.requestTimeoutMs,
    ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    ...(config.keyFilename ? { keyFilename: config.keyFilename } : {}),
  });
}
