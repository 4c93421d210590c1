import assert from 'node:assert/strict';
import { searchProperties } from '../../catalog';
import { diffSnapshots } from '../../diff';
import { catalogNaming } from '../../api/browse/tenant-repository';
import { repositoryDiffSource } from '../../api/browse/diff-source';
import { MasterKey } from '../../storage/data-keys';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { Repository } from '../../storage/repository';
import { BrowseNotFoundError, CorruptDataError, SnapshotReader } from '../../storage/snapshot-reader';

const TENANT = '0785ef7c-2d7a-4542-b048-95bcab406e0b';
const uid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const user = (i: number, title = 'Engineer') => ({
  id: uid(i),
  displayName: `User ${i}`,
  userPrincipalName: `user${i}@contoso.example`,
  jobTitle: title,
  proxyAddresses: [`SMTP:user${i}@contoso.example`, `smtp:u${i}@contoso.example`],
});
const member = (i: number) => ({ '@odata.type': '#microsoft.graph.user', id: uid(i) });

/**
 * Three snapshots: a full one of 11,000 users (three manifest chunks), then diffs: one edited, one soft-deleted, one
 * hard-deleted, one created, a group's member swapped; then the soft-deleted one restored.
 */
async function history(repo: Repository, users = 11_000) {
  const snap = async (day: number, shape: (i: number) => 'present' | 'soft' | 'gone' | 'edited', members: number[]) => {
    const w = await repo.startSnapshot(TENANT, new Date(Date.UTC(2026, 0, day)));
    for (let i = 0; i <= users; i++) {
      const s = shape(i);
      if (s === 'gone') continue;
      await w.addObject('users', uid(i), `User ${i}`, user(i, s === 'edited' ? 'Chief' : 'Engineer'), {
        state: s === 'soft' ? 'softDeleted' : 'present',
      });
    }
    await w.addObject(
      'groups',
      'g',
      'Staff',
      { id: 'g', displayName: 'Staff' },
      {
        relationships: { members: members.map(member), owners: [member(1)] },
      },
    );
    await w.finishType('conditionalAccessPolicies', { status: 'skipped', reason: 'feature-not-licensed' });
    return (await w.commit(new Date(Date.UTC(2026, 0, day, 1)))).id;
  };
  const s1 = await snap(1, (i) => (i === users ? 'gone' : 'present'), [1, 2]);
  const s2 = await snap(2, (i) => (i === 5 ? 'edited' : i === 7 ? 'soft' : i === 9 ? 'gone' : 'present'), [1, 3]);
  const s3 = await snap(3, (i) => (i === 5 ? 'edited' : i === 9 ? 'gone' : 'present'), [1, 3]);
  return { s1, s2, s3 };
}

describe('storage: snapshot reader (browse)', function () {
  this.timeout(60_000);
  const master = MasterKey.generate();
  let store: MemoryObjectStore;
  let repo: Repository;
  let ids: Awaited<ReturnType<typeof history>>;

  before(async () => {
    store = new MemoryObjectStore();
    repo = await Repository.open(store, master, { packTargetSize: 256 * 1024 });
    ids = await history(repo);
  });

  it('finds one entry through the diff chain exactly as the resolved manifest has it', async () => {
    const reader = new SnapshotReader(await Repository.open(store, master), catalogNaming);
    for (const id of [ids.s1, ids.s2, ids.s3]) {
      const record = await repo.getSnapshot(id);
      const users = record.types.users;
      assert.ok(users.status === 'captured');
      const all = new Map((await repo.listEntries(id, 'users')).map((e) => [e.id, e]));
      for (const i of [0, 5, 7, 9, 4999, 5000, 5001, 10_999, 11_000, 20_000]) {
        assert.deepEqual(await reader.findEntry(users.manifest, uid(i)), all.get(uid(i)), `${id} user ${i}`);
      }
    }
  });

  it('names the ids two manifests of one diff chain may differ in, without reading either whole', async () => {
    const reader = new SnapshotReader(await Repository.open(store, master), catalogNaming);
    const manifest = async (id: string) => {
      const users = (await repo.getSnapshot(id)).types.users;
      assert.ok(users.status === 'captured');
      return users.manifest;
    };
    const [m1, m2, m3] = [await manifest(ids.s1), await manifest(ids.s2), await manifest(ids.s3)];
    const expected = [5, 7, 9, 11_000].map(uid).sort();
    assert.deepEqual([...(await reader.changedBetween(m1, m2))!].sort(), expected);
    assert.deepEqual([...(await reader.changedBetween(m2, m1))!].sort(), expected, 'either order');
    assert.deepEqual([...(await reader.changedBetween(m2, m3))!].sort(), [uid(7)]);
    const groups = (await repo.getSnapshot(ids.s1)).types.groups;
    assert.ok(groups.status === 'captured');
    assert.equal(await reader.changedBetween(m1, groups.manifest), undefined, 'not one chain: compare everything');
  });

  it('reads one object without reading every pack', async () => {
    const fresh = await Repository.open(store, master);
    const reader = new SnapshotReader(fresh, catalogNaming);
    const snapshot = await reader.snapshot(ids.s3);
    const entry = (await reader.findEntry(reader.captured(snapshot, 'users').manifest, uid(4321)))!;
    const before = store.stats.rangeGets + store.stats.gets;
    assert.deepEqual(await reader.readObject('users', entry), user(4321));
    assert.equal(store.stats.rangeGets + store.stats.gets - before, 1, 'one ranged read of its segment');
  });

  it('tells an object’s history: created, changed, moved to the recycle bin, restored, deleted', async () => {
    const reader = new SnapshotReader(repo, catalogNaming);
    const events = async (i: number) => (await reader.history('users', uid(i))).map((h) => [h.snapshotId, h.event]);
    assert.deepEqual(await events(0), [[ids.s1, 'captured']]);
    assert.deepEqual(await events(5), [
      [ids.s2, 'changed'],
      [ids.s1, 'captured'],
    ]);
    assert.deepEqual(await events(7), [
      [ids.s3, 'restored'],
      [ids.s2, 'soft-deleted'],
      [ids.s1, 'captured'],
    ]);
    assert.deepEqual(await events(9), [
      [ids.s2, 'deleted'],
      [ids.s1, 'captured'],
    ]);
    assert.deepEqual(await events(11_000), [[ids.s2, 'created']]);
    const group = await reader.history('groups', 'g');
    assert.deepEqual(
      group.map((h) => [h.event, h.contentChanged, h.relationshipsChanged]),
      [
        ['changed', false, ['members']],
        ['captured', false, []],
      ],
    );
  });

  it('tells a history from snapshots the caller listed, listing none itself', async () => {
    const reader = new SnapshotReader(repo, catalogNaming);
    const kept = await repo.listSnapshots();
    const before = store.stats.lists;
    const events = (await reader.history('users', uid(7), kept)).map((h) => h.event);
    assert.deepEqual(events, ['restored', 'soft-deleted', 'captured']);
    assert.equal(store.stats.lists, before, 'no listing of snapshots or forget markers');
  });

  it('searches UPN prefixes in the manifest’s search keys, reading no object', async () => {
    const reader = new SnapshotReader(await Repository.open(store, master), catalogNaming);
    const snapshot = await reader.snapshot(ids.s3);
    const entries = await reader.sortedEntries(reader.captured(snapshot, 'users').manifest);
    assert.deepEqual(entries.find((e) => e.id === uid(4321))?.search, ['user4321@contoso.example']);
    const before = store.stats.rangeGets + store.stats.gets;
    const found = await reader.search('users', entries, 'user4321@', searchProperties('users'));
    assert.deepEqual(
      found.map((e) => e.id),
      [uid(4321)],
    );
    assert.equal(store.stats.rangeGets + store.stats.gets - before, 0, 'no object read');
    const byName = await reader.search('users', entries, 'user 432', searchProperties('users'));
    assert.equal(byName.length, 11, 'display names: User 432 and User 4320–4329');
  });

  it('searches entries written before search keys existed by reading their objects', async () => {
    const reader = new SnapshotReader(await Repository.open(store, master), catalogNaming);
    const snapshot = await reader.snapshot(ids.s3);
    const entries = await reader.sortedEntries(reader.captured(snapshot, 'users').manifest);
    // As a manifest written before the field: no entry has search keys.
    const old = entries.map(({ search: _search, ...e }) => e);
    const before = store.stats.rangeGets + store.stats.gets;
    const found = await reader.search('users', old, 'user4321@', searchProperties('users'));
    assert.deepEqual(
      found.map((e) => e.id),
      [uid(4321)],
    );
    assert.ok(store.stats.rangeGets + store.stats.gets - before > 0, 'the objects were read');
  });

  it('names related items from the snapshot’s manifests', async () => {
    const reader = new SnapshotReader(repo, catalogNaming);
    const snapshot = await reader.snapshot(ids.s2);
    const described = await reader.describe([snapshot], 'groups', 'members', 'g', [member(1), member(3)]);
    assert.deepEqual(described, [
      { id: uid(1), type: 'users', displayName: 'User 1' },
      { id: uid(3), type: 'users', displayName: 'User 3' },
    ]);
  });

  it('diffs two snapshots through the repository: exactly the changes, either way', async () => {
    const reader = new SnapshotReader(repo, catalogNaming);
    const [s1, s2] = await Promise.all([reader.snapshot(ids.s1), reader.snapshot(ids.s2)]);
    const forward = await diffSnapshots(repositoryDiffSource(reader, s1, s2));
    const users = forward.find((t) => t.type === 'users')!;
    assert.deepEqual(
      users.added.map((o) => o.id),
      [uid(11_000)],
    );
    assert.deepEqual(users.removed, [
      { id: uid(7), displayName: 'User 7', deletion: 'soft' },
      { id: uid(9), displayName: 'User 9', deletion: 'hard' },
    ]);
    assert.deepEqual(users.changed, [
      {
        id: uid(5),
        displayName: 'User 5',
        attributes: [{ path: 'jobTitle', kind: 'value', old: 'Engineer', new: 'Chief' }],
        relationships: [],
      },
    ]);
    const groups = forward.find((t) => t.type === 'groups')!;
    assert.deepEqual(groups.changed[0].relationships, [
      {
        relationship: 'members',
        added: [{ id: uid(3), type: 'users', displayName: 'User 3' }],
        removed: [{ id: uid(2), type: 'users', displayName: 'User 2' }],
        changed: [],
      },
    ]);
    const backward = await diffSnapshots(repositoryDiffSource(reader, s2, s1));
    const back = backward.find((t) => t.type === 'users')!;
    assert.deepEqual(
      back.restored.map((o) => o.id),
      [uid(7)],
    );
    assert.deepEqual(back.removed, [{ id: uid(11_000), displayName: 'User 11000', deletion: 'hard' }]);
    assert.deepEqual(
      back.added.map((o) => o.id),
      [uid(9)],
    );
  });

  it('refuses a forgotten snapshot as not found', async () => {
    const other = new MemoryObjectStore();
    const r = await Repository.open(other, master);
    const w = await r.startSnapshot(TENANT, new Date(Date.UTC(2026, 1, 1)));
    await w.addObject('users', uid(1), 'User 1', user(1));
    const { id } = await w.commit();
    const reader = new SnapshotReader(r, catalogNaming);
    assert.equal((await reader.snapshot(id)).id, id);
    await r.forget([id]);
    await assert.rejects(reader.snapshot(id), BrowseNotFoundError);
    await assert.rejects(reader.snapshot('0'.repeat(64)), BrowseNotFoundError);
  });

  it('fails loudly, naming the object and the pack, when one byte of a pack changed', async () => {
    const damaged = new MemoryObjectStore();
    const r = await Repository.open(damaged, master, { packTargetSize: 64 * 1024 });
    const w = await r.startSnapshot(TENANT, new Date(Date.UTC(2026, 2, 1)));
    for (let i = 0; i < 2000; i++) await w.addObject('users', uid(i), `User ${i}`, user(i));
    const { id } = await w.commit();
    const reader = new SnapshotReader(r, catalogNaming);
    const entries = await r.listEntries(id, 'users');
    const victim = entries[1234];
    const where = r.locate(victim.contentHash)!;
    damaged.objects.get(`packs/${where.packId}`)!.bytes[where.offset + Math.floor(where.length / 2)] ^= 0x01;

    await assert.rejects(reader.readObject('users', victim), (err: unknown) => {
      assert.ok(err instanceof CorruptDataError);
      assert.match(err.message, new RegExp(`users object ${victim.id}`));
      assert.equal(err.packId, where.packId);
      assert.match(err.message, new RegExp(where.packId));
      return true;
    });
    // A page read together: the error names the damaged objects (those sharing the segment), never returns them.
    await assert.rejects(reader.readObjects('users', entries.slice(1200, 1300)), (err: unknown) => {
      assert.ok(err instanceof CorruptDataError);
      assert.match(err.what, new RegExp(victim.id));
      assert.match(String(err.packId), new RegExp(where.packId));
      return true;
    });
    // A page elsewhere still reads.
    assert.equal((await reader.readObjects('users', entries.slice(0, 10))).size, 10);
  });
});
