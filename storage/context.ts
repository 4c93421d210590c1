import type { BlobSource } from './blob-io';
import type { Lock } from './locks';
import type { ObjectStore } from './object-store';
import type { MasterIndex } from './pack-index';

/** What the repository's parts share. Internal to storage/: the data key never leaves this folder. */
export interface RepositoryContext {
  store: ObjectStore;
  dataKey: Buffer;
  index: MasterIndex;
  blobs: BlobSource;
  packTargetSize: number;
  now: () => Date;
  lockStaleMs: number;
  acquireLock(kind: 'shared' | 'exclusive', holder?: string): Promise<Lock>;
}
