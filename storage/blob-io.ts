import type { BlobKind } from './blob';

/** Where manifests and relationship lists write their blobs (the repository's deduplicating pack writer). */
export interface BlobSink {
  /** Stores the canonical JSON of `value` as a blob (once) and returns its content id. */
  saveJson(kind: BlobKind, value: unknown): Promise<string>;
}

export interface BlobSource {
  readJson<T = unknown>(id: string): Promise<T>;
}
