import { randomBytes } from 'node:crypto';
import type { ObjectStore } from './object-store';

export const LOCK_PREFIX = 'locks/';
export const DEFAULT_LOCK_STALE_MS = 30 * 60 * 1000;

export type LockKind = 'shared' | 'exclusive';

/** `locks/shared-<random>` or `locks/exclusive-<random>`. */
function lockKindOf(key: string): LockKind | undefined {
  const name = key.slice(LOCK_PREFIX.length);
  if (name.startsWith('shared-')) return 'shared';
  if (name.startsWith('exclusive-')) return 'exclusive';
  return undefined;
}

/** Written for people looking at the bucket; `acquire` reads only the listing. */
interface LockFile {
  kind: LockKind;
  createdAt: string;
  refreshedAt: string;
}

export class RepositoryBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryBusyError';
  }
}

/**
 * restic-style locks: writers hold shared locks, prune holds an exclusive one. Lock files are the only files that
 * are rewritten (to refresh them); a lock not refreshed within the stale period belongs to a dead process and is
 * ignored (its age is its file's write time). Both sides write their lock first and look second, so two that race
 * both see each other and back off.
 */
export class Lock {
  private lastRefresh: number;

  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly kind: LockKind,
    private readonly createdAt: Date,
    private readonly now: () => Date,
    private readonly staleMs: number,
  ) {
    this.lastRefresh = createdAt.getTime();
  }

  static async acquire(
    store: ObjectStore,
    kind: LockKind,
    { now = () => new Date(), staleMs = DEFAULT_LOCK_STALE_MS }: { now?: () => Date; staleMs?: number } = {},
  ): Promise<Lock> {
    const lock = new Lock(store, `${LOCK_PREFIX}${kind}-${randomBytes(8).toString('hex')}`, kind, now(), now, staleMs);
    await lock.write();
    // The listing alone tells a lock's kind (its name) and last refresh (the write time of its file): reading each
    // lock file raced its owner deleting it, and the GCS emulator then answered a read that never ended.
    for await (const info of store.list(LOCK_PREFIX)) {
      if (info.key === lock.key) continue;
      const otherKind = lockKindOf(info.key);
      if (!otherKind) continue;
      const live = now().getTime() - info.updated.getTime() < staleMs;
      if (live && (kind === 'exclusive' || otherKind === 'exclusive')) {
        await lock.release();
        throw new RepositoryBusyError(
          kind === 'exclusive'
            ? `Repository is in use (${info.key}); prune must wait for running backups`
            : `Repository is being pruned (${info.key}); retry the backup later`,
        );
      }
    }
    return lock;
  }

  private async write(): Promise<void> {
    const body: LockFile = {
      kind: this.kind,
      createdAt: this.createdAt.toISOString(),
      refreshedAt: this.now().toISOString(),
    };
    await this.store.put(this.key, Buffer.from(JSON.stringify(body)));
  }

  /** Refreshes the lock if a third of the stale period has passed; cheap to call often. */
  async refreshIfDue(): Promise<void> {
    if (this.now().getTime() - this.lastRefresh < this.staleMs / 3) return;
    this.lastRefresh = this.now().getTime();
    await this.write();
  }

  async release(): Promise<void> {
    await this.store.delete(this.key);
  }
}
