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
    private readonly named: boolean,
  ) {
    this.lastRefresh = createdAt.getTime();
  }

  static async acquire(
    store: ObjectStore,
    kind: LockKind,
    {
      now = () => new Date(),
      staleMs = DEFAULT_LOCK_STALE_MS,
      holder,
    }: {
      now?: () => Date;
      staleMs?: number;
      /**
       * A name that stays the same when its holder is retried (hex): a retry then takes over the lock its killed
       * predecessor left instead of waiting out the stale period behind it. Random when absent.
       */
      holder?: string;
    } = {},
  ): Promise<Lock> {
    const name = holder ?? randomBytes(8).toString('hex');
    if (!/^[0-9a-f]{8,64}$/.test(name)) throw new Error('a lock holder name is 8 to 64 hex digits');
    const lock = new Lock(store, `${LOCK_PREFIX}${kind}-${name}`, kind, now(), now, staleMs, holder !== undefined);
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
    if (this.named) {
      // A named lock may have been taken over by a retry of its holder (this one was given up on): that lock is
      // the retry's now, and deleting it would let a backup start next to the retry.
      const body = await this.store.get(this.key);
      if (body && (JSON.parse(body.toString('utf8')) as LockFile).createdAt !== this.createdAt.toISOString()) return;
    }
    await this.store.delete(this.key);
  }
}
