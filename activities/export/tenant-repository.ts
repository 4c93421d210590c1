import type { Repository } from '../../storage/repository';
import type { Repositories, TenantRepositoryRef } from '../backup/repositories';

/** The one place export and verify activities open a tenant's repository: owner-checked, like every activity. */
export function openTenantRepository(repositories: Repositories, tenant: TenantRepositoryRef): Promise<Repository> {
  return repositories.forTenant(tenant);
}
