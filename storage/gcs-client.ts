import { Storage } from '@google-cloud/storage';
import type { StorageConfig } from '../temporal.config';

/**
 * The one way the product builds its `@google-cloud/storage` client. Against the emulator `apiEndpoint` is set and
 * the library sends no credentials to it; in production it is unset and Application Default Credentials (or
 * `keyFilename`) authenticate against Google Cloud Storage.
 */
export function createStorageClient(config: StorageConfig): Storage {
  return new Storage({
    projectId: config.projectId,
    ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    ...(config.keyFilename ? { keyFilename: config.keyFilename } : {}),
  });
}
