import { ObjectNotFoundError } from './object-store';
import type { ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store';

interface Stored {
  bytes: Buffer;
  updated: Date;
}

/** In-memory store for unit tests; counts requests so tests can assert how many writes a backup costs. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Stored>();
  readonly stats = { puts: 0, gets: 0, rangeGets: 0, lists: 0, deletes: 0 };

  /** Tests move the clock to age files past prune's grace period. */
  constructor(public now: () => Date = () => new Date()) {}

  async put(key: string, bytes: Buffer, options: PutOptions = {}): Promise<PutResult> {
    this.stats.puts++;
    if (options.ifGenerationMatch0 && this.objects.has(key)) return 'exists';
    this.objects.set(key, { bytes: Buffer.from(bytes), updated: this.now() });
    return 'written';
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.stats.gets++;
    const stored = this.objects.get(key);
    return stored ? Buffer.from(stored.bytes) : undefined;
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    this.stats.rangeGets++;
    const stored = this.objects.get(key);
    if (!stored) throw new ObjectNotFoundError(key);
    return Buffer.from(stored.bytes.subarray(start, end));
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.stats.lists++;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const stored = this.objects.get(key);
      if (stored) yield { key, size: stored.bytes.length, updated: stored.updated };
    }
  }

  async delete(key: string): Promise<void> {
    this.stats.deletes++;
    this.objects.delete(key);
  }

  /** Total stored bytes under a prefix (storage-cost assertions in tests and the benchmark). */
  bytesUnder(prefix = ''): number {
    let total = 0;
    for (const [key, stored] of this.objects) if (key.startsWith(prefix)) total += stored.bytes.length;
    return total;
  }
}
