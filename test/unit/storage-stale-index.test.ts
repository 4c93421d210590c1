import assert from 'node:assert/strict';
import { MasterKey } from '../../storage/data-keys';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { Repository } from '../../storage/repository';

const TENANT = 'tenant-1';
const DAY = 24 * 60 * 60 * 1000;

/**
 * An API replica keeps a repository handle (and its index) open while a worker prunes the same repository: the
 * handle's cached locations then name packs the prune deleted. Reads through that handle must still succeed.
 */
describe('storage: a handle whose index another process pruned', () => {
  const master = MasterKey.generate();

  async function pruned() {
    let t = Date.parse('2026-03-01T00:00:00Z');
    const now = () => new Date(t);
    const store = new MemoryObjectStore(now);
    const writer = await Repository.open(store, master, { packTargetSize: 16 * 1024, now });
    const snapshots = [];
    for (let day = 0; day < 3; day++) {
      const w = await writer.startSnapshot(TENANT, now());
      for (let i = 0; i < 200; i++) {
        const version = i < 100 ? day : 0; // half the users change every day, the rest never
        await w.addObject('users', `u${i}`, `User ${i}`, { id: `u${i}`, version, filler: 'x'.repeat(300) });
      }
      snapshots.push(await w.commit(now()));
      t += DAY;
    }
    // The reader (another process) opens the repository and reads, caching the indexes as they are now.
    const reader = await Repository.open(store, master, { now });
    const latest = snapshots.at(-1)!.id;
    const entries = await reader.listEntries(latest, 'users');
    assert.ok(await reader.readObject(entries[0].contentHash));
    // The writer forgets the older snapshots and prunes: packs holding kept and forgotten blobs are rewritten.
    await writer.forget(snapshots.slice(0, -1).map((s) => s.id));
    const report = await writer.prune({ graceMs: 0, repackThreshold: Number.MIN_VALUE });
    assert.ok(report.repackedPacks.length > 0, 'the prune rewrote packs the reader had cached');
    return { reader, entries };
  }

  it('reads one object', async () => {
    const { reader, entries } = await pruned();
    for (const e of entries) assert.equal(((await reader.readObject(e.contentHash)) as { id: string }).id, e.id);
  });

  it('reads many objects at once', async () => {
    const { reader, entries } = await pruned();
    const read = new Set<string>();
    for await (const { id } of reader.readBlobBatch(entries.map((e) => e.contentHash))) read.add(id);
    assert.equal(read.size, new Set(entries.map((e) => e.contentHash)).size);
  });

  it('reports no false integrity errors when reading for export or verification', async () => {
    const { reader, entries } = await pruned();
    const errors: string[] = [];
    for await (const r of reader.readBlobsReporting(entries.map((e) => e.contentHash)))
      if ('error' in r && r.error) errors.push(String(r.error));
    assert.deepEqual(errors, []);
  });
});
