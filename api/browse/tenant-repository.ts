import type { Storage } from '@google-cloud/storage';
import { findObjectType, listObjectTypes } from '../../catalog';
import { repositoryLocation, sharedRepositories } from '../../activities/backup/repositories';
import { DATA_KEY_FILE } from '../../storage/data-keys';
import { LruCache } from '../../storage/lru-cache';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { notFound } from '../problem';
import type { Repository } from '../../storage/repository';
import { SnapshotReader, type NamingRules } from '../../storage/snapshot-reader';
import type { TenantRecord } from '../../tenants/types';

/** Related items named through the catalog: a relationship's target types; `#microsoft.graph.user` → `users`. */
export const catalogNaming: NamingRules = {
  targets: (type, relationship) =>
    findObjectType(type)?.relationships.find((r) => r.key === relationship)?.targets ?? [],
  typeOfOdataType: (odataType) => {
    const name = odataType.replace(/^#microsoft\.graph\./, '');
    return listObjectTypes().find((t) => t.key === `${name}s` || t.deletedItemsCast === `microsoft.graph.${name}`)?.key;
  },
};

/** One reader per open repository: it caches manifests too. */
const readers = new WeakMap<Repository, SnapshotReader>();

/**
 * The reader of a tenant's backup repository, through `Repositories.forTenant` like every activity: the location is
 * derived from the tenant's ids and the repository's owner record is checked.
 */
export async function tenantSnapshotReader(
  storage: Storage,
  masterKey: string,
  tenant: Pick<TenantRecord, 'tenantId' | 'resellerId' | 'storage'>,
): Promise<SnapshotReader> {
  // Browsing reads blobs through readBlob / readBlobBatch, which refresh the index on a blob it does not list yet.
  const repo = await openTenantRepositoryForReading(storage, masterKey, tenant, { refresh: false });
  if (!repo) throw notFound(`a backup of tenant ${tenant.tenantId} (it has none yet)`);
  let reader = readers.get(repo);
  if (!reader) {
    reader = new SnapshotReader(repo, catalogNaming);
    readers.set(repo, reader);
  }
  return reader;
}

/**
 * Opens a tenant's repository for reading, or undefined when it has none yet. Never creates one (a GET, or a refused
 * request, writes nothing). The one place the API locates a tenant's repository.
 */
export async function openTenantRepositoryForReading(
  storage: Storage,
  masterKey: string,
  tenant: Pick<TenantRecord, 'tenantId' | 'resellerId' | 'storage'>,
  options: { refresh?: boolean } = {},
): Promise<Repository | undefined> {
  const location = repositoryLocation(tenant);
  const key = `${location.bucket}/${location.prefix}`;
  if (!existing.get(key)) {
    const store = new GcsObjectStore(storage.bucket(location.bucket), location.prefix);
    if (!(await store.exists(DATA_KEY_FILE))) return undefined;
    // A repository's data key is never deleted while the repository exists: asked once per location, not per request.
    existing.set(key, true);
  }
  return sharedRepositories(storage, masterKey).forTenant(tenant, options);
}

/** Locations known to hold a repository (bounded, like the open handles). */
const existing = new LruCache<string, true>(1000);
