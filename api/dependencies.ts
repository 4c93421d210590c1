import type { Client } from '@temporalio/client';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';
import { createStorageClient } from '../storage/gcs-client';
import type { AppConfig } from '../temporal.config';
import type { ApiDependencies } from './app';
import { StorageAuditLog } from './audit/storage-audit-log';

/**
 * What the API runs on in production: the configured object storage, accounts held by their workflows, the audit trail
 * in the default bucket. The API process, the benchmarks and the tests wire it the same way; `overrides` replaces a part.
 */
export function apiDependencies(
  config: AppConfig,
  client: Client,
  overrides: Partial<ApiDependencies> = {},
): ApiDependencies {
  const storage = overrides.storage ?? createStorageClient(config.storage);
  return {
    config,
    client,
    storage,
    accounts: overrides.accounts ?? new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue }),
    audit: overrides.audit ?? new StorageAuditLog(storage, config.storage.defaultBucket),
    ...overrides,
  };
}
