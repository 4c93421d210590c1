import type { Storage } from '@google-cloud/storage';
import { DATA_KEY_FILE } from '../../storage/keys';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import type { TenantRecord } from '../../tenants/types';

/**
 * Opens a tenant's repository for reading, or undefined when it has none yet. Never creates one: a refused request
 * writes nothing. The one place the API locates a tenant's repository (issue 18 changes how; adapt here).
 */
export async function openTenantRepositoryForReading(
  storage: Storage,
  masterKey: string,
  record: TenantRecord,
): Promise<Repository | undefined> {
  const store = new GcsObjectStore(storage.bucket(record.storage.bucket), record.storage.prefix);
  if (!(await store.exists(DATA_KEY_FILE))) return undefined;
  return Repository.open(store, masterKey);
}
