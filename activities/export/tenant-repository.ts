import type { Repository } from '../../storage/repository';
import type { StorageLocation } from '../../tenants/types';
import type { Repositories } from '../backup/repositories';

/**
 * The one place export and verify activities open a tenant's repository (issue 18 changes how a tenant's repository
 * is located; adapt here).
 */
export function openTenantRepository(repositories: Repositories, storage: StorageLocation): Promise<Repository> {
  return repositories.get(storage);
}
