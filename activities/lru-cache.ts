/**
 * How many tenants' worth of each per-tenant cache one worker process keeps (README "Many tenants per worker").
 * Repository handles hold a tenant's index (the largest entry); pacers, Retry-After gates, msal clients and tokens
 * are small. Beyond the bound the least recently used entry goes, except one still in use (a pacer with requests in
 * flight, a gate still closed): evicting those would split a tenant's pacing or send a request before Retry-After.
 */
export const perTenantCacheLimits = {
  repositories: 32,
  pacers: 500,
  retryAfterGates: 500,
  tokenClients: 500,
};

/** A Map bounded to `limit` entries, least recently used first out, skipping entries `evictable` says are in use. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly limit: number,
    private readonly evictable: (value: V) => boolean = () => true,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting makes this entry the most recently used.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The entry under `key`, made by `create` and kept when there is none. */
  getOrCreate(key: K, create: () => V): V {
    let value = this.get(key);
    if (value === undefined) {
      value = create();
      this.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size <= this.limit) return;
    for (const [oldKey, oldValue] of this.entries) {
      if (this.entries.size <= this.limit || oldKey === key) break;
      if (this.evictable(oldValue)) this.entries.delete(oldKey);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
