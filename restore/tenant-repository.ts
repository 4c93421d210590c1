import type { Storage } from '@google-cloud/storage';
import { sharedRepositories, type TenantRepositoryRef } from '../activities/backup/repositories';
import type { Repository } from '../storage/repository';

/**
 * The one place a restore opens a tenant's backup repository (the API to validate a request, activities to read
 * snapshots and keep plans and reports): through `Repositories.forTenant`, owner-checked like every activity.
 */
export function openTenantRepository(
  storage: Storage,
  masterKey: string,
  tenant: TenantRepositoryRef,
): Promise<Repository> {
  return sharedRepositories(storage, masterKey).forTenant(tenant);
}

export const planDocument = (restoreId: string) => `restores/${restoreId}/plan.json`;
export const progressDocument = (restoreId: string) => `restores/${restoreId}/progress.json`;
export const reportDocument = (restoreId: string) => `restores/${restoreId}/report.json`;
