import type { StorageConfig } from '../temporal.config';
import { createStorageClient } from '../storage/gcs-client';

/** Creates a bucket on the local emulator when it is missing (in production buckets are provisioned, not created). */
export async function ensureBucket(config: StorageConfig, name: string): Promise<void> {
  const bucket = createStorageClient(config).bucket(name);
  const [exists] = await bucket.exists();
  if (!exists)
    await bucket.create().catch((err: { code?: number }) => {
      if (err.code !== 409) throw err; // created meanwhile by another process
    });
}
