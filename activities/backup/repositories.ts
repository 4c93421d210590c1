import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/activity';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { exportPrefix, folderOf, reservedOverlap, tenantRepositoryPrefix } from '../../storage/locations';
import { ForeignRepositoryError, UnownedRepositoryError } from '../../storage/owner';
import { ForeignSnapshotError, Repository } from '../../storage/repository';
import { isLegacyStorage, type StorageLocation } from '../../tenants/types';
import { LruCache, perTenantCacheLimits } from '../lru-cache';

/** What opening a tenant's repository needs of its record (a TenantRecord or a BackupTarget both fit). */
export interface TenantRepositoryRef {
  tenantId: string;
  resellerId: string;
  storage: StorageLocation;
}

export interface RepositoryLocation {
  bucket: string;
  prefix: string;
  kmsKeyName?: string;
  /** A typed bucket and prefix (a tenant added before storage locations). */
  legacy: boolean;
}

/** A legacy tenant's typed prefix overlaps one the service reserves (the audit trail, exports, other tenants). */
export class ReservedPrefixError extends Error {
  constructor(tenantId: string, prefix: string, reserved: string) {
    super(`Tenant ${tenantId}: its typed storage prefix '${prefix}' overlaps the reserved prefix ${reserved}`);
    this.name = 'ReservedPrefixError';
  }
}

/**
 * The one answer to "where is this tenant's repository": a located tenant's prefix is derived from its ids, never
 * read from the record; a legacy tenant's typed prefix is used as it is, unless it reaches a reserved prefix.
 */
export function repositoryLocation(tenant: TenantRepositoryRef): RepositoryLocation {
  const { storage } = tenant;
  if (!isLegacyStorage(storage)) {
    return {
      bucket: storage.bucket,
      prefix: tenantRepositoryPrefix(tenant),
      ...(storage.kmsKeyName ? { kmsKeyName: storage.kmsKeyName } : {}),
      legacy: false,
    };
  }
  const reserved = reservedOverlap(storage.prefix);
  if (reserved) throw new ReservedPrefixError(tenant.tenantId, storage.prefix, reserved);
  return { bucket: storage.bucket, prefix: folderOf(storage.prefix), legacy: true };
}

/**
 * Where a tenant's exports go: its repository's bucket (the data stays in the region the tenant was added in), under
 * the export prefix the service reserves (storage/locations.ts), which no repository can overlap.
 */
export function exportLocation(tenant: TenantRepositoryRef): { bucket: string; prefix: string; kmsKeyName?: string } {
  const { bucket, kmsKeyName } = repositoryLocation(tenant);
  return { bucket, prefix: exportPrefix(tenant), ...(kmsKeyName ? { kmsKeyName } : {}) };
}

/**
 * Opens tenants' backup repositories. Every activity that reads or writes a tenant's backups (capture, commit,
 * retention, browse, export, restore) goes through `forTenant`, which checks the repository's owner record. A handle
 * is reused by the activities of one worker process (it caches the index); `refresh` picks up what other workers
 * wrote meanwhile. Only the most recently used handles are kept (a worker serving hundreds of tenants would otherwise
 * hold every index for ever); an activity still using an evicted handle keeps it until it ends.
 */
export class Repositories {
  private readonly open = new LruCache<string, Promise<Repository>>(perTenantCacheLimits.repositories);

  constructor(
    private readonly storage: Storage,
    private readonly masterKey: string,
  ) {}

  /**
   * `refresh: false` hands back an open handle as it is, without listing the index files again: for reads that refresh
   * on a blob the handle does not know (`Repository.readBlob`, `readBlobBatch`), such as browsing, where the listing was
   * a good part of one object's read.
   */
  async forTenant(tenant: TenantRepositoryRef, options: { refresh?: boolean } = {}): Promise<Repository> {
    const location = repositoryLocation(tenant);
    // Keyed by tenant too: a handle opened (and owner-checked) for one tenant is never handed to another.
    const key = `${tenant.resellerId}/${tenant.tenantId}@${location.bucket}/${location.prefix}`;
    let repo = this.open.get(key);
    if (!repo) {
      const store = new GcsObjectStore(this.storage.bucket(location.bucket), location.prefix, {
        kmsKeyName: location.kmsKeyName,
      });
      repo = Repository.open(store, this.masterKey, {
        owner: { tenantId: tenant.tenantId, resellerId: tenant.resellerId },
        allowUnowned: location.legacy,
      });
      repo.catch(() => this.open.delete(key));
      this.open.set(key, repo);
      return repo;
    }
    const r = await repo;
    if (options.refresh !== false) await r.refresh();
    return r;
  }
}

let shared: { storage: Storage; masterKey: string; handles: Repositories } | undefined;

/**
 * The process's `Repositories` for code that is handed a storage client rather than the activities' own set (the
 * API's browse and restore routes, restore activities): one per storage client and master key, so the indexes it
 * caches serve every caller in the process.
 */
export function sharedRepositories(storage: Storage, masterKey: string): Repositories {
  if (!shared || shared.storage !== storage || shared.masterKey !== masterKey) {
    shared = { storage, masterKey, handles: new Repositories(storage, masterKey) };
  }
  return shared.handles;
}

/**
 * A repository that belongs to someone else, or holds another tenant's records, does not get better by retrying:
 * the activity fails for good with the error's class as its type, and the operator sees why.
 */
export function finalStorageFailure(err: unknown): unknown {
  if (
    err instanceof ForeignSnapshotError ||
    err instanceof ForeignRepositoryError ||
    err instanceof UnownedRepositoryError ||
    err instanceof ReservedPrefixError
  ) {
    return ApplicationFailure.nonRetryable(err.message, err.name);
  }
  return err;
}
