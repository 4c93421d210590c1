import { canonicalBytes, sha256Hex } from './canonical-json';
import { IntegrityError, openCompressed, sealCompressedOffThread } from './crypto';
import type { ManifestEntry } from './manifest';
import type { ObjectInfo, ObjectStore } from './object-store';

/**
 * 'full': every object of the type is added (a full read); base entries not added again are gone.
 * 'changes': only changes are given (a delta read); base entries not mentioned carry over unchanged.
 */
export type TypeWriteMode = 'full' | 'changes';

/**
 * `checkpoints/<sha256 of file>`: an unfinished type writer's state, sealed. Checkpoints are files of their own, not
 * blobs in packs, because they are worthless once the type is finished: the writer deletes its chain then. Inside
 * packs they would be garbage that only a prune could collect.
 */
export const CHECKPOINT_PREFIX = 'checkpoints/';

export function checkpointKey(id: string): string {
  return CHECKPOINT_PREFIX + id;
}

/**
 * An unfinished type's writer state, stored as a chain of checkpoint files after its packs and index: a capture
 * activity that crashed resumes from the newest (and from the Graph page link it heartbeated with it) instead of
 * starting the type over. Each checkpoint holds only what changed since `previous`: one holding every entry so far
 * would grow with the type and be written again every few seconds.
 */
export interface TypeCheckpoint {
  v: 2;
  type: string;
  mode: TypeWriteMode;
  base: string | null;
  previous: string | null;
  /** Entries recorded or changed since `previous`, as they stand now. */
  entries: ManifestEntry[];
  /** Ids whose entry was dropped since `previous`. */
  removed: string[];
}

export class CheckpointMissingError extends Error {
  constructor(readonly id: string) {
    super(`Checkpoint ${id} is missing (its type was finished, or prune collected it)`);
    this.name = 'CheckpointMissingError';
  }
}

export async function writeCheckpoint(store: ObjectStore, dataKey: Buffer, state: unknown): Promise<string> {
  const bytes = await sealCompressedOffThread(dataKey, 'checkpoint', canonicalBytes(state));
  const id = sha256Hex(bytes);
  await store.put(checkpointKey(id), bytes, { ifGenerationMatch0: true });
  return id;
}

export async function readCheckpoint<T>(store: ObjectStore, dataKey: Buffer, id: string): Promise<T> {
  const bytes = await store.get(checkpointKey(id));
  if (!bytes) throw new CheckpointMissingError(id);
  if (sha256Hex(bytes) !== id) throw new IntegrityError(`checkpoint ${id}: bytes do not match its name`);
  return JSON.parse(openCompressed(dataKey, 'checkpoint', bytes, `checkpoint ${id}`).toString('utf8')) as T;
}

/** Every checkpoint under the prefix with its age, for prune: a young one's blobs must stay (its backup may resume). */
export async function* listCheckpoints(
  store: ObjectStore,
  dataKey: Buffer,
): AsyncIterable<ObjectInfo & { read: () => Promise<TypeCheckpoint> }> {
  for await (const info of store.list(CHECKPOINT_PREFIX)) {
    const id = info.key.slice(CHECKPOINT_PREFIX.length);
    yield { ...info, read: () => readCheckpoint<TypeCheckpoint>(store, dataKey, id) };
  }
}
