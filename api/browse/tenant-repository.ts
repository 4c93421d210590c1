import type { Storage } from '@google-cloud/storage';
import { findObjectType, listObjectTypes } from '../../catalog';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
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

/** One handle per repository in this API process: it caches the merged index and, through the reader, manifests. */
const open = new Map<string, Promise<SnapshotReader>>();

/**
 * The reader of a tenant's backup repository. The one place the API finds where a tenant's backups are: where
 * repositories are located changes (storage locations), this function follows.
 */
export async function tenantSnapshotReader(
  storage: Storage,
  masterKey: string,
  tenant: Pick<TenantRecord, 'storage'>,
): Promise<SnapshotReader> {
  const { bucket, prefix } = tenant.storage;
  const key = `${bucket}/${prefix}`;
  const cached = open.get(key);
  if (cached) {
    const reader = await cached;
    await reader.repo.refresh();
    return reader;
  }
  const reader = Repository.open(new GcsObjectStore(storage.bucket(bucket), prefix), masterKey).then(
    (repo) => new SnapshotReader(repo, catalogNaming),
  );
  reader.catch(() => open.delete(key));
  open.set(key, reader);
  return reader;
}
