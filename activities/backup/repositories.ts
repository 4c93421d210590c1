import type { Storage } from '@google-cloud/storage';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import type { StorageLocation } from '../../tenants/types';
import { LruCache, perTenantCacheLimits } from '../lru-cache';

/**
 * Opens tenants' backup repositories in their own bucket and prefix. A handle is reused by the activities of one
 * worker process (it caches the index); `refresh` picks up what other workers wrote meanwhile. Only the most recently
 * used handles are kept (a worker serving hundreds of tenants would otherwise hold every index for ever); an activity
 * still using an evicted handle keeps it until it ends.
 */
export class Repositories {
  private readonly open = new LruCache<string, Promise<Repository>>(perTenantCacheLimits.repositories);

  constructor(
    private readonly storage: Storage,
    private readonly masterKey: string,
  ) {}

  async get(location: StorageLocation): Promise<Repository> {
    const key = `${location.bucket}/${location.prefix}`;
    let repo = this.open.get(key);
    if (!repo) {
      repo = Repository.open(new GcsObjectStore(this.storage.bucket(location.bucket), location.prefix), this.masterKey);
      repo.catch(() => this.open.delete(key));
      this.open.set(key, repo);
      return repo;
    }
    const r = await repo;
    await r.refresh();
    return r;
  }
}
