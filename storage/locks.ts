import { randomBytes } from 'node:crypto';
import type { ObjectStore } from './object-store';

export const LOCK_PREFIX = 'locks/';
export const DEFAULT_LOCK_STALE_MS = 30 * 60 * 1000;

export type LockKind = 'shared' | 'exclusive';

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
 * ignored. Both sides write their lock first and look second, so two that race both see each other and back off.
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
    for await (const info of store.list(LOCK_PREFIX)) {
      if (info.key === lock.key) continue;
      const bytes = await store.get(info.key);
      if (!bytes) continue;
      let other: LockFile;
      try {
        other = JSON.parse(bytes.toString('utf8')) as LockFile;
      } catch {
        continue;
      }
      const live = now().getTime() - Date.parse(other.refreshedAt) < staleMs;
      if (live && (kind === 'exclusive' || other.kind === 'exclusive')) {
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
