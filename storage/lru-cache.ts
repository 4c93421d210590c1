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
