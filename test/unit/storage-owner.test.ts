import assert from 'node:assert/strict';
import { loadOrCreateDataKey, MasterKey } from '../../storage/data-keys';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { ForeignRepositoryError, OWNER_FILE, UnownedRepositoryError } from '../../storage/owner';
import { ForeignSnapshotError, Repository } from '../../storage/repository';
import { encodeSnapshot, snapshotKey, type SnapshotRecord } from '../../storage/snapshot';
import {
  exportPrefix,
  auditPrefix,
  RESERVED_PREFIXES,
  reservedOverlap,
  tenantRepositoryPrefix,
} from '../../storage/locations';

const A = { tenantId: '0785ef7c-2d7a-4542-b048-95bcab406e0b', resellerId: 'rsl-a' };
const B = { tenantId: '5b1f0a3c-9d2e-4f6a-8b7c-1d2e3f4a5b6c', resellerId: 'rsl-b' };

/** One small snapshot of `tenantId`, written through the repository's own writer. */
async function backup(repo: Repository, tenantId: string, at = new Date()) {
  const w = await repo.startSnapshot(tenantId, at);
  await w.addObject('users', 'u1', 'User 1', { id: 'u1', displayName: 'User 1' });
  await w.finishType('users');
  return w.commit(new Date(at.getTime() + 1000));
}

/** A record naming `tenantId`, sealed with the repository's real data key: what a shared legacy repository holds. */
async function plantRecord(store: MemoryObjectStore, master: MasterKey, record: SnapshotRecord): Promise<string> {
  const dataKey = await loadOrCreateDataKey(store, master);
  const { id, bytes } = encodeSnapshot(dataKey.bytes(), record);
  await store.put(snapshotKey(id), bytes, { ifGenerationMatch0: true });
  return id;
}

describe('storage: repository owner', () => {
  const master = MasterKey.generate();

  it('records its owner, sealed, when created, and refuses to open for another tenant or reseller', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, { owner: A });
    assert.equal(repo.ownerRecord?.tenantId, A.tenantId);
    assert.match(repo.ownerRecord!.repositoryId, /^[0-9a-f]{64}$/);
    const sealed = (await store.get(OWNER_FILE))!.toString('latin1');
    assert.equal(sealed.includes(A.tenantId), false, 'the owner record is sealed, not plain text');
    await backup(repo, A.tenantId);

    await assert.rejects(Repository.open(store, master, { owner: B }), ForeignRepositoryError);
    await assert.rejects(
      Repository.open(store, master, { owner: { tenantId: A.tenantId, resellerId: B.resellerId } }),
      ForeignRepositoryError,
    );
    await assert.rejects(Repository.open(store, master, { owner: B, allowUnowned: true }), ForeignRepositoryError);
    const again = await Repository.open(store, master, { owner: A });
    assert.equal(again.ownerRecord?.repositoryId, repo.ownerRecord?.repositoryId);
    assert.equal((await again.listSnapshots()).length, 1);
  });

  it('refuses to commit a snapshot of another tenant', async () => {
    const repo = await Repository.open(new MemoryObjectStore(), master, { owner: A });
    await assert.rejects(backup(repo, B.tenantId), /Refusing to commit a snapshot of tenant/);
  });

  it('reports a planted record of another tenant as an integrity error, never as a result', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, { owner: A });
    const own = await backup(repo, A.tenantId, new Date('2026-01-01T00:00:00Z'));
    const foreign = await plantRecord(store, master, {
      ...own.record,
      tenantId: B.tenantId,
      previous: own.id,
      startedAt: '2026-01-02T00:00:00.000Z',
      finishedAt: '2026-01-02T00:00:01.000Z',
    });
    const fresh = await Repository.open(store, master, { owner: A });
    await assert.rejects(fresh.listSnapshots(), (err: unknown) => {
      assert.ok(err instanceof ForeignSnapshotError);
      assert.deepEqual(err.snapshotIds, [foreign]);
      return true;
    });
    await assert.rejects(fresh.latestManifest('users'), ForeignSnapshotError);
    await assert.rejects(fresh.latestCoverage('users'), ForeignSnapshotError);
    await assert.rejects(fresh.getSnapshot(foreign), ForeignSnapshotError);
    await assert.rejects(fresh.prune({ graceMs: 0 }), ForeignSnapshotError);
    await assert.rejects(backup(fresh, A.tenantId), ForeignSnapshotError);
    const chain = await fresh.verifyChain();
    assert.equal(chain.ok, false);
    assert.ok(chain.problems.some((p) => p.includes(`${foreign} belongs to another tenant`)));
    assert.equal((await fresh.getSnapshot(own.id)).tenantId, A.tenantId);
  });

  it('opens a legacy repository without an owner only for a legacy tenant; an explicit claim records one', async () => {
    const store = new MemoryObjectStore();
    const legacy = await Repository.open(store, master);
    await backup(legacy, A.tenantId);
    assert.equal(await store.get(OWNER_FILE), undefined);

    await assert.rejects(Repository.open(store, master, { owner: A }), UnownedRepositoryError);
    const asLegacy = await Repository.open(store, master, { owner: A, allowUnowned: true });
    assert.equal(asLegacy.ownerRecord, undefined);
    assert.equal((await asLegacy.listSnapshots()).length, 1);
    assert.equal(await store.get(OWNER_FILE), undefined, 'opening claims nothing silently');
    // A legacy tenant B that typed the same bucket and prefix sees A's record as foreign.
    const asB = await Repository.open(store, master, { owner: B, allowUnowned: true });
    await assert.rejects(asB.listSnapshots(), ForeignSnapshotError);
    await assert.rejects(Repository.claim(store, master, B), ForeignSnapshotError);
    assert.equal(await store.get(OWNER_FILE), undefined);

    const claimed = await Repository.claim(store, master, A);
    assert.equal(claimed.ownerRecord?.tenantId, A.tenantId);
    await assert.rejects(Repository.open(store, master, { owner: B, allowUnowned: true }), ForeignRepositoryError);
    assert.equal((await (await Repository.open(store, master, { owner: A })).listSnapshots()).length, 1);
  });

  it('claims a repository that holds no data yet (its creation stopped before the owner record)', async () => {
    const store = new MemoryObjectStore();
    await loadOrCreateDataKey(store, master);
    const repo = await Repository.open(store, master, { owner: A });
    assert.equal(repo.ownerRecord?.tenantId, A.tenantId);
  });
});

describe('storage: prefixes', () => {
  it('derives each tenant its own repository prefix, apart from exports and the audit trail', () => {
    const a = tenantRepositoryPrefix(A);
    assert.equal(a, `resellers/rsl-a/tenants/${A.tenantId}/`);
    const sameIdOtherReseller = tenantRepositoryPrefix({ ...B, tenantId: A.tenantId });
    for (const p of [a, sameIdOtherReseller]) {
      assert.equal(p.startsWith('audit/') || p.startsWith('exports/'), false);
      assert.equal(reservedOverlap(p), 'resellers/', 'a typed prefix can never reach a tenant repository');
    }
    assert.notEqual(a, sameIdOtherReseller);
    assert.equal(tenantRepositoryPrefix(B).startsWith(a), false);
    assert.equal(exportPrefix(A), `exports/rsl-a/${A.tenantId}/`);
    assert.equal(auditPrefix('rsl-a'), 'audit/rsl-a/');
    assert.deepEqual([...RESERVED_PREFIXES].sort(), ['audit/', 'exports/', 'resellers/']);
  });

  it('refuses ids that could escape their folder', () => {
    for (const bad of ['a/b', '..', '', 'x/../y', ' a']) {
      assert.throws(() => tenantRepositoryPrefix({ resellerId: bad, tenantId: A.tenantId }), /cannot name/);
      assert.throws(() => exportPrefix({ resellerId: 'rsl-a', tenantId: bad }), /cannot name/);
    }
  });

  it('finds a typed prefix that overlaps a reserved one', () => {
    assert.equal(reservedOverlap('audit'), 'audit/');
    assert.equal(reservedOverlap('audit/rsl-a'), 'audit/');
    assert.equal(reservedOverlap('exports/x/'), 'exports/');
    assert.equal(reservedOverlap('aud'), undefined);
    assert.equal(reservedOverlap(''), '(the bucket root)');
    assert.equal(reservedOverlap('tenants/contoso'), undefined);
  });
});
