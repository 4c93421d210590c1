import { generateKeyPairSync } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import type { StorageConfig } from '../temporal.config';
import { createStorageClient } from './gcs-client';

let emulatorKey: string | undefined;

/**
 * A storage client that can sign V4 URLs (https://cloud.google.com/storage/docs/access-control/signed-urls):
 * - with STORAGE_KEY_FILE, the service account's private key signs locally;
 * - on Google Cloud with Application Default Credentials and no key, google-auth-library asks the IAM Credentials
 *   API to sign (signBlob): the service account needs `iam.serviceAccounts.signBlob` on itself (role Service Account
 *   Token Creator);
 * - against the emulator (which does not check signatures) a key generated for this process signs, so the URL has
 *   the same shape as in production and the download goes through it.
 */
export function createSigningStorage(config: StorageConfig): Storage {
  if (config.keyFilename || !config.apiEndpoint) return createStorageClient(config);
  emulatorKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  return new Storage({
    projectId: config.projectId,
    timeout: config.requestTimeoutMs,
    apiEndpoint: config.apiEndpoint,
    credentials: {
      client_email: `export-signer@${config.projectId}.iam.gserviceaccount.com`,
      private_key: emulatorKey,
    },
  });
}

/** A V4 GET URL for one object, valid until `expiresAt` (at most 7 days from now, V4's limit). */
export async function signedDownloadUrl(storage: Storage, bucket: string, objectName: string, expiresAt: Date) {
  const [url] = await storage
    .bucket(bucket)
    .file(objectName)
    .getSignedUrl({ version: 'v4', action: 'read', expires: expiresAt });
  return url;
}
