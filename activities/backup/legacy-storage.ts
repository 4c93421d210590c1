import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { DATA_KEY_FILE } from '../../storage/data-keys';
import type { OwnerRecord } from '../../storage/owner';
import { Repository } from '../../storage/repository';
import { isLegacyStorage, tenantWorkflowId, type LegacyStorage, type TenantRecord } from '../../tenants/types';
import { repositoryLocation, ReservedPrefixError } from './repositories';

/**
 * What an operator's command finds of tenants added before storage locations (a typed bucket and prefix). Nothing
 * here moves or rewrites anything: listing only reads, and `claimLegacyRepository` writes one owner record when the
 * operator names the tenant, after checking that every record in the repository is that tenant's.
 */
export type LegacyState =
  /** Nothing stored yet: the first backup creates the repository, owned by the tenant. */
  | 'no-repository'
  /** The repository records this tenant as its owner. */
  | 'owned'
  /** Holds only this tenant's snapshots but no owner record: claim it (`npm run storage -- claim`). */
  | 'unowned'
  /** Holds snapshot records of other tenants too (a prefix typed twice): its backups fail; re-create the tenant. */
  | 'mixed'
  /** The repository is owned by another tenant: this one cannot open it; re-create the tenant. */
  | 'owned-by-another'
  /** The typed prefix overlaps the audit trail, exports or tenant repositories: refused; re-create the tenant. */
  | 'reserved-prefix';

export interface LegacyTenantReport {
  tenantId: string;
  resellerId: string;
  organizationId: string;
  storage: LegacyStorage;
  state: LegacyState;
  snapshots?: number;
  /** Other tenants that typed the same bucket and prefix. */
  sharedWith: string[];
}

/** The tenants served by the workers of `taskQueue` (the deployment's own; another queue's tenants are not ours). */
async function tenantRecords(client: Client, taskQueue: string): Promise<TenantRecord[]> {
  const records: TenantRecord[] = [];
  const query = `WorkflowType = 'tenantWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
  for await (const execution of client.workflow.list({ query })) {
    records.push(await client.workflow.getHandle(execution.workflowId).query<TenantRecord>('tenant'));
  }
  return records;
}

export async function listLegacyTenants(
  client: Client,
  storage: Storage,
  masterKey: string,
  taskQueue: string,
): Promise<LegacyTenantReport[]> {
  const legacy = (await tenantRecords(client, taskQueue)).filter((t) => isLegacyStorage(t.storage));
  const where = (t: TenantRecord) => {
    const s = t.storage as LegacyStorage;
    return `${s.bucket}/${s.prefix.replace(/\/+$/, '')}`;
  };
  const reports: LegacyTenantReport[] = [];
  for (const tenant of legacy) {
    const report: LegacyTenantReport = {
      tenantId: tenant.tenantId,
      resellerId: tenant.resellerId,
      organizationId: tenant.organizationId,
      storage: tenant.storage as LegacyStorage,
      state: 'no-repository',
      sharedWith: legacy.filter((o) => o !== tenant && where(o) === where(tenant)).map((o) => o.tenantId),
    };
    reports.push(report);
    let location;
    try {
      location = repositoryLocation(tenant);
    } catch (err) {
      if (!(err instanceof ReservedPrefixError)) throw err;
      report.state = 'reserved-prefix';
      continue;
    }
    const store = new GcsObjectStore(storage.bucket(location.bucket), location.prefix);
    // Opening would create a data key: a listing writes nothing.
    if (!(await store.exists(DATA_KEY_FILE))) continue;
    const repo = await Repository.open(store, masterKey);
    if (repo.ownerRecord) {
      const mine = repo.ownerRecord.tenantId === tenant.tenantId && repo.ownerRecord.resellerId === tenant.resellerId;
      report.state = mine ? 'owned' : 'owned-by-another';
      if (!mine) continue;
    }
    const snapshots = await repo.listSnapshots();
    report.snapshots = snapshots.length;
    if (snapshots.some((s) => s.record.tenantId !== tenant.tenantId)) report.state = 'mixed';
    else if (!repo.ownerRecord) report.state = 'unowned';
  }
  return reports;
}

/**
 * Records the tenant as the owner of its legacy repository, explicitly. Refused when the repository holds another
 * tenant's record (ForeignSnapshotError) or is owned by another tenant (ForeignRepositoryError).
 */
export async function claimLegacyRepository(
  client: Client,
  storage: Storage,
  masterKey: string,
  tenantId: string,
): Promise<OwnerRecord> {
  const tenant = await client.workflow.getHandle(tenantWorkflowId(tenantId)).query<TenantRecord>('tenant');
  if (!isLegacyStorage(tenant.storage)) {
    throw new Error(`Tenant ${tenantId} is kept in storage location '${tenant.storage.locationId}': nothing to claim`);
  }
  const location = repositoryLocation(tenant);
  const store = new GcsObjectStore(storage.bucket(location.bucket), location.prefix);
  const repo = await Repository.claim(store, masterKey, { tenantId: tenant.tenantId, resellerId: tenant.resellerId });
  return repo.ownerRecord!;
}
