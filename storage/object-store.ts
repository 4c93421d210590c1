/**
 * The narrow view of an object store the repository needs. Keys are relative to the tenant's location (bucket +
 * prefix); implementations add and strip the prefix.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Last write time; prune's grace period is measured against it. */
  updated: Date;
}

export interface PutOptions {
  /** Create-only: do nothing if the key exists (GCS `ifGenerationMatch: 0`). */
  ifGenerationMatch0?: boolean;
}

export type PutResult = 'written' | 'exists';

export interface ObjectStore {
  /** Returns 'exists' (no error) when a create-only write finds the key taken: content-addressed files are equal. */
  put(key: string, bytes: Buffer, options?: PutOptions): Promise<PutResult>;
  get(key: string): Promise<Buffer | undefined>;
  /** Bytes [start, end) of the object (end exclusive, like Buffer#subarray). Throws if the object is missing. */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deleting a missing key is not an error (prune may be re-run after a crash). */
  delete(key: string): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`Object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}
