import assert from 'node:assert/strict';
import { MasterKey } from '../../storage/data-keys';
import { Lock, RepositoryBusyError } from '../../storage/locks';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { PackWriter } from '../../storage/pack-writer';
import { BlobNotFoundError, Repository } from '../../storage/repository';
import { CheckpointMissingError } from '../../storage/checkpoints';

const TENANT = 'tenant-1';
const HOUR = 60 * 60 * 1000;

function user(i: number, day: number): Record<string, unknown> {
  // Users below 10 change every day; the rest never do.
  return { id: `u${i}`, displayName: `User ${i}`, version: i < 10 ? day : 0, filler: 'x'.repeat(200 + (i % 50)) };
}

class Clock {
  t = Date.parse('2026-03-01T00:00:00Z');
  now = (): Date => new Date(this.t);
}

async function daily(repo: Repository, clock: Clock, day: number, n = 200) {
  const w = await repo.startSnapshot(TENANT, clock.now());
  for (let i = 0; i < n; i++) await w.addObject('users', `u${i}`, `User ${i}`, user(i, day));
  const result = await w.commit(clock.now());
  clock.t += 24 * HOUR;
  return result;
}

describe('storage: prune', () => {
  const master = MasterKey.generate();

  it('deletes exactly the data only forgotten snapshots referenced', async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { packTargetSize: 16 * 1024, now: clock.now });
    const snaps = [];
    for (let day = 0; day < 4; day++) snaps.push(await daily(repo, clock, day));

    const hashesOf = async (id: string) => new Set((await repo.listEntries(id, 'users')).map((e) => e.contentHash));
    const forgotten = [snaps[0].id, snaps[1].id];
    const keptHashes = new Set([...(await hashesOf(snaps[2].id)), ...(await hashesOf(snaps[3].id))]);
    const onlyForgotten = new Set(
      [...(await hashesOf(snaps[0].id)), ...(await hashesOf(snaps[1].id))].filter((h) => !keptHashes.has(h)),
    );
    assert.equal(onlyForgotten.size, 20, 'ten users changed on each forgotten day');

    await repo.forget(forgotten);
    assert.deepEqual(
      (await repo.listSnapshots()).map((s) => s.id),
      [snaps[2].id, snaps[3].id],
    );
    const bytesBefore = store.bytesUnder('packs/');
    const report = await repo.prune({ graceMs: 0, repackThreshold: Number.MIN_VALUE });
    assert.ok(report.bytesFreed > 0);
    assert.ok(store.bytesUnder('packs/') < bytesBefore);

    const fresh = await Repository.open(store, master, { now: clock.now });
    for (const h of onlyForgotten) await assert.rejects(fresh.readBlob(h), BlobNotFoundError);
    for (const h of keptHashes) assert.ok(await fresh.readObject(h));
    const check = await fresh.check();
    assert.equal(check.ok, true, check.errors.join('\n'));
    assert.equal(check.notes.length, 0, check.notes.join('\n'));
    // Forgotten records stay: they are links of the hash chain.
    const chain = await fresh.verifyChain();
    assert.equal(chain.ok, true, chain.problems.join('\n'));
    assert.equal((await fresh.forgetReason(snaps[0].id))?.reason, 'retention');
  });

  it('keeps everything younger than the grace period', async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { packTargetSize: 16 * 1024, now: clock.now });
    const a = await daily(repo, clock, 0);
    await daily(repo, clock, 1);
    await repo.forget([a.id]);
    const before = new Map([...store.objects].filter(([k]) => k.startsWith('packs/')));
    const report = await repo.prune({ graceMs: 7 * 24 * HOUR });
    assert.deepEqual(report.deletedPacks, []);
    assert.deepEqual(report.repackedPacks, []);
    assert.deepEqual(report.deletedIndexes, []);
    for (const key of before.keys()) assert.ok(store.objects.has(key), key);
  });

  it('treats manifests of a backup not yet committed as live', async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { packTargetSize: 16 * 1024, now: clock.now });
    const first = await daily(repo, clock, 0);
    // A backup finished its type (manifest stored, deduplicated against the first snapshot) but has no record yet.
    const tw = await repo.openTypeWriter('users', { mode: 'full' });
    for (let i = 0; i < 200; i++) await tw.addObject(`u${i}`, `User ${i}`, user(i, 0));
    const pending = await tw.finish();
    await repo.forget([first.id]);
    clock.t += 2 * HOUR;
    await repo.prune({ graceMs: HOUR * 3, repackThreshold: Number.MIN_VALUE });
    const committed = await repo.commitSnapshot({
      tenantId: TENANT,
      startedAt: clock.now(),
      types: { users: { status: 'captured', count: 200, softDeleted: 0, manifest: pending.manifest } },
    });
    const check = await (await Repository.open(store, master, { now: clock.now })).check();
    assert.equal(check.ok, true, check.errors.join('\n'));
    assert.equal((await repo.listEntries(committed.id, 'users')).length, 200);
  });

  it('does not run while a backup holds the repository, and a backup does not start during prune', async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { now: clock.now });
    const tw = await repo.openTypeWriter('users', { mode: 'full' });
    await assert.rejects(repo.prune({ graceMs: 0 }), RepositoryBusyError);
    await tw.finish();
    await repo.prune({ graceMs: 0 });
    // A lock left by a dead process goes stale and stops blocking.
    const dead = await repo.openTypeWriter('users', { mode: 'full' });
    clock.t += 2 * HOUR;
    await repo.prune({ graceMs: 0 });
    void dead;

    const pruning = await Lock.acquire(store, 'exclusive', { now: clock.now });
    await assert.rejects(repo.openTypeWriter('users', { mode: 'full' }), RepositoryBusyError);
    await pruning.release();
    await (await repo.openTypeWriter('users', { mode: 'full' })).finish();
  });

  it('judges other locks from the listing: a refreshed lock keeps blocking, one not refreshed goes stale', async () => {
    const clock = new Clock();
    // Reading another lock's file races its owner deleting it (the GCS emulator then never finished the read).
    const store = new (class extends MemoryObjectStore {
      override async get(key: string): Promise<Buffer | undefined> {
        if (key.startsWith('locks/')) throw new Error(`read a lock file: ${key}`);
        return super.get(key);
      }
    })(clock.now);
    const options = { now: clock.now, staleMs: HOUR };
    const running = await Lock.acquire(store, 'shared', options);
    const abandoned = await Lock.acquire(store, 'shared', options);
    clock.t += 0.5 * HOUR;
    await running.refreshIfDue();
    clock.t += 0.75 * HOUR;
    await assert.rejects(
      Lock.acquire(store, 'exclusive', options),
      (err) =>
        err instanceof RepositoryBusyError && err.message.includes(running.key) && !err.message.includes(abandoned.key),
    );
    await running.release();
    const pruning = await Lock.acquire(store, 'exclusive', options);
    await assert.rejects(Lock.acquire(store, 'shared', options), RepositoryBusyError);
    await pruning.release();
  });

  it('a retried prune takes over the lock its killed attempt left, and finishes what that one began', async () => {
    const clock = new Clock();
    // The worker dies as prune deletes its second pack: from then on nothing it sends arrives.
    let deletes = 0;
    let killed = false;
    const store = new (class extends MemoryObjectStore {
      override async delete(key: string): Promise<void> {
        if (killed || (key.startsWith('packs/') && ++deletes === 2 && (killed = true))) throw new Error('killed');
        return super.delete(key);
      }
      override async get(key: string): Promise<Buffer | undefined> {
        if (killed) throw new Error('killed');
        return super.get(key);
      }
    })(clock.now);
    const keysUnder = async (prefix: string) => {
      const keys: string[] = [];
      for await (const info of store.list(prefix)) keys.push(info.key);
      return keys;
    };
    const repo = await Repository.open(store, master, { packTargetSize: 16 * 1024, now: clock.now });
    const snaps = [];
    for (let day = 0; day < 4; day++) snaps.push(await daily(repo, clock, day));
    await repo.forget([snaps[0].id, snaps[1].id]);
    const holder = 'ab'.repeat(16);
    const options = { graceMs: 0, lockHolder: holder, repackThreshold: Number.MIN_VALUE };

    await assert.rejects(repo.prune(options), /killed/);
    assert.equal(deletes, 2, 'killed mid-sweep');
    killed = false;
    assert.equal((await keysUnder('locks/')).length, 1, 'the dead attempt left its lock');
    await assert.rejects(repo.prune({ graceMs: 0 }), RepositoryBusyError, 'another prune still waits for it');
    await assert.rejects(repo.openTypeWriter('users', { mode: 'full' }), RepositoryBusyError);

    // An attempt given up on (heartbeat timeout) stops at its next step, before deleting anything.
    const packs = await keysUnder('packs/');
    const given = new AbortController();
    given.abort(new Error('heartbeat timeout'));
    await assert.rejects(repo.prune({ ...options, signal: given.signal }), /heartbeat timeout/);
    assert.deepEqual(await keysUnder('packs/'), packs);

    const report = await repo.prune(options);
    assert.ok(report.deletedPacks.length + report.repackedPacks.length + report.deletedOrphanPacks.length > 0);
    assert.deepEqual(await keysUnder('locks/'), [], 'released');
    const again = await repo.prune(options);
    assert.deepEqual([again.deletedPacks, again.repackedPacks, again.deletedOrphanPacks], [[], [], []]);
    const check = await (await Repository.open(store, master, { now: clock.now })).check();
    assert.equal(check.ok, true, check.errors.join('\n'));
    for (const id of [snaps[2].id, snaps[3].id]) assert.equal((await repo.listEntries(id, 'users')).length, 200);
  });

  it('a prune cancelled during its mark stops reading manifests at once, deletes nothing and releases its lock', async () => {
    const clock = new Clock();
    // Cancelled as the mark reads its first pack (the manifests are blobs in packs): count what it reads after.
    const cancelled = new AbortController();
    let counting = false;
    let packReads = 0;
    const store = new (class extends MemoryObjectStore {
      private read(key: string) {
        if (!key.startsWith('packs/') || !counting) return;
        packReads++;
        cancelled.abort(new Error('activity cancelled'));
      }
      override async get(key: string): Promise<Buffer | undefined> {
        this.read(key);
        return super.get(key);
      }
      override async getRange(key: string, start: number, end: number): Promise<Buffer> {
        this.read(key);
        return super.getRange(key, start, end);
      }
    })(clock.now);
    const written = await Repository.open(store, master, { packTargetSize: 16 * 1024, now: clock.now });
    const snaps = [];
    for (let day = 0; day < 4; day++) snaps.push(await daily(written, clock, day));
    await written.forget([snaps[0].id]);
    const keys = async () => {
      const out: string[] = [];
      for await (const info of store.list('')) out.push(info.key);
      return out.sort();
    };
    const before = await keys();

    // A fresh repository, so nothing the writes left in a cache spares the mark a read.
    const repo = await Repository.open(store, master, { now: clock.now });
    counting = true;
    await assert.rejects(repo.prune({ graceMs: 0, signal: cancelled.signal }), /activity cancelled/);
    counting = false;
    assert.equal(packReads, 1, 'no manifest or chunk read after the cancellation');
    assert.deepEqual(await keys(), before, 'nothing deleted or written, the lock released');

    // Uncancelled, the same prune reads many: the check above is not one that any prune would pass.
    packReads = 0;
    counting = true;
    await (await Repository.open(store, master, { now: clock.now })).prune({ graceMs: 0 });
    counting = false;
    assert.ok(packReads > 3, `an uncancelled prune read ${packReads} times`);
  });

  it("a named lock taken over by its holder's retry is not released by the attempt it replaced", async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const holder = 'cd'.repeat(16);
    const first = await Lock.acquire(store, 'exclusive', { now: clock.now, holder });
    clock.t += 1000;
    const retry = await Lock.acquire(store, 'exclusive', { now: clock.now, holder });
    await first.release();
    await assert.rejects(Lock.acquire(store, 'shared', { now: clock.now }), RepositoryBusyError);
    await retry.release();
    await (await Lock.acquire(store, 'shared', { now: clock.now })).release();
  });

  it("keeps what an unfinished backup's young checkpoint names, and collects both once the checkpoint is old", async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { now: clock.now });
    const day0 = await daily(repo, clock, 0, 20);
    // A backup deduplicates user 15 (stored by day 0), checkpoints, and its worker dies.
    const crashed = await repo.openTypeWriter('users', { mode: 'full' });
    const hash = await crashed.addObject('u15', 'User 15', user(15, 0));
    const checkpoint = await crashed.checkpoint();
    await crashed.abort();
    await repo.forget([day0.id]);

    clock.t += 2 * HOUR; // day 0's packs are old; the checkpoint is 2 h old, within a 3 h grace period
    const kept = await repo.prune({ graceMs: 3 * HOUR });
    assert.equal(kept.deletedCheckpoints, 0);
    assert.deepEqual(await (await Repository.open(store, master, { now: clock.now })).readObject(hash), user(15, 0));
    const resumed = await repo.openTypeWriter('users', { mode: 'full', resumeFrom: checkpoint });
    await resumed.abort();

    clock.t += 4 * HOUR; // the checkpoint, and the pack the first prune copied user 15 into, are old now
    const collected = await repo.prune({ graceMs: 3 * HOUR });
    assert.equal(collected.deletedCheckpoints, 1);
    const fresh = await Repository.open(store, master, { now: clock.now });
    await assert.rejects(fresh.readBlob(hash), BlobNotFoundError);
    await assert.rejects(
      fresh.openTypeWriter('users', { mode: 'full', resumeFrom: checkpoint }),
      CheckpointMissingError,
    );
  });

  it('removes old packs that no index lists (a crashed backup) but not young ones', async () => {
    const clock = new Clock();
    const store = new MemoryObjectStore(clock.now);
    const repo = await Repository.open(store, master, { now: clock.now });
    await daily(repo, clock, 0, 20);
    const keyBytes = Buffer.alloc(32); // contents are never decrypted here; only the pack's presence matters
    const orphan = await new PackWriter(store, keyBytes).add('a'.repeat(64), 'object', Buffer.from('{}'));
    const crashed = await new PackWriter(store, keyBytes, 1).add('b'.repeat(64), 'object', Buffer.from('{}'));
    assert.equal(orphan, undefined);
    assert.ok(crashed);
    const young = await repo.prune({ graceMs: HOUR });
    assert.deepEqual(young.deletedOrphanPacks, []);
    clock.t += 2 * HOUR;
    const old = await repo.prune({ graceMs: HOUR });
    assert.deepEqual(old.deletedOrphanPacks, [crashed.id]);
    assert.equal((await repo.check()).ok, true);
  });
});
