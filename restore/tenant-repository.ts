import type { Storage } from '@google-cloud/storage';
import { GcsObjectStore } from '../storage/gcs-object-store';
import { Repository } from '../storage/repository';
import type { StorageLocation } from '../tenants/types';

/**
 * The one place a restore opens a tenant's backup repository (the API to validate a request, activities to read
 * snapshots and keep plans and reports). How a location maps to a bucket and prefix is changing (storage
 * locations issue): adapt it here.
 */
export function openTenantRepository(
  storage: Storage,
  masterKey: string,
  location: StorageLocation,
): Promise<Repository> {
  return Repository.open(new GcsObjectStore(storage.bucket(location.bucket), location.prefix), masterKey);
}

export const planDocument = (restoreId: string) => `restores/${restoreId}/plan.json`;
export const progressDocument = (restoreId: string) => `restores/${restoreId}/progress.json`;
export const reportDocument = (restoreId: string) => `restores/${restoreId}/report.json`;
