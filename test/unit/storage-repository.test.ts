import assert from 'node:assert/strict';
import { canonicalBytes, sha256Hex } from '../../storage/canonical-json';
import { IntegrityError, sealCompressed } from '../../storage/crypto';
import { MasterKey } from '../../storage/data-keys';
import type { ManifestRoot } from '../../storage/manifest';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { Repository } from '../../storage/repository';
import { SNAPSHOT_PREFIX } from '../../storage/snapshot';
import type { SyncState } from '../../storage/sync-state';

const TENANT = '0785ef7c-2d7a-4542-b048-95bcab406e0b';

function userId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** A user as Graph returns it with the catalog's $select; `version` changes a few properties. */
function user(i: number, version = 0): Record<string, unknown> {
  return {
    id: userId(i),
    displayName: `User ${i}`,
    userPrincipalName: `user${i}@contoso.example`,
    mail: `user${i}@contoso.example`,
    mailNickname: `user${i}`,
    accountEnabled: true,
    givenName: `Given${i}`,
    surname: `Surname${i}`,
    jobTitle: version === 0 ? 'Engineer' : `Engineer v${version}`,
    department: `Dept ${i % 17}`,
    officeLocation: `Building ${i % 5}`,
    businessPhones: [`+1 555 ${String(i).padStart(4, '0')}`],
    proxyAddresses: [`SMTP:user${i}@contoso.example`],
    onPremisesExtensionAttributes: { extensionAttribute1: `ea-${i}-${version}` },
    usageLocation: 'US',
    userType: 'Member',
    createdDateTime: '2024-01-01T00:00:00Z',
  };
}

const MEMBER = (i: number) => ({ '@odata.type': '#microsoft.graph.user', id: userId(i) });

async function backup(repo: Repository, n: number, changed: ReadonlySet<number> = new Set(), startedAt = new Date()) {
  const w = await repo.startSnapshot(TENANT, startedAt);
  for (let i = 0; i < n; i++) await w.addObject('users', userId(i), `User ${i}`, user(i, changed.has(i) ? 1 : 0));
  await w.addObject(
    'groups',
    'g-all',
    'All staff',
    { id: 'g-all', displayName: 'All staff' },
    {
      relationships: { members: Array.from({ length: n }, (_, i) => MEMBER(i)), owners: [MEMBER(0)] },
    },
  );
  await w.finishType('users');
  await w.finishType('groups');
  await w.finishType('conditionalAccessPolicies', { status: 'skipped', reason: 'feature-not-licensed', detail: '403' });
  return w.commit(new Date(startedAt.getTime() + 1000));
}

describe('storage: repository', () => {
  const master = MasterKey.generate();
  const options = { packTargetSize: 64 * 1024 };

  it('round-trips a snapshot: entries, byte-identical canonical JSON, relationships, coverage', async () => {
    const store = new MemoryObjectStore();
    const { id } = await backup(await Repository.open(store, master, options), 2000);
    const putsForBackup = store.stats.puts;

    const repo = await Repository.open(store, master, options);
    const snapshots = await repo.listSnapshots();
    assert.deepEqual(
      snapshots.map((s) => s.id),
      [id],
    );
    const record = snapshots[0].record;
    assert.equal(record.tenantId, TENANT);
    assert.equal(record.previous, null);
    assert.deepEqual(record.types.conditionalAccessPolicies, {
      status: 'skipped',
      count: 0,
      reason: 'feature-not-licensed',
      detail: '403',
    });
    assert.equal(record.types.users.status, 'captured');
    assert.equal(record.types.users.count, 2000);

    const entries = await repo.listEntries(id, 'users');
    assert.equal(entries.length, 2000);
    const e = entries.find((x) => x.id === userId(42));
    assert.ok(e);
    assert.equal(e.displayName, 'User 42');
    assert.equal(e.state, 'present');
    assert.deepEqual(await repo.readObjectBytes(e.contentHash), canonicalBytes(user(42)));
    assert.deepEqual(await repo.readObject(e.contentHash), user(42));
    // A reader that never searches (an export) lists the same entries without their search keys.
    assert.ok(e.search?.includes('user42@contoso.example'));
    const lean = await repo.listEntries(id, 'users', { searchKeys: false });
    assert.deepEqual(
      lean,
      entries.map(({ search: _search, ...rest }) => rest),
    );

    const [group] = await repo.listEntries(id, 'groups');
    assert.ok(group.rels);
    const members = await repo.readRelationship(group.rels.members);
    assert.equal(members.length, 2000);
    assert.deepEqual(
      members.map((m) => m.id),
      Array.from({ length: 2000 }, (_, i) => userId(i)).sort(),
    );

    let seen = 0;
    store.stats.rangeGets = 0;
    for await (const { entry, object } of repo.readType(id, 'users')) {
      assert.deepEqual(canonicalBytes(object), canonicalBytes(user(Number.parseInt(entry.id.slice(-12), 16))));
      seen++;
    }
    assert.equal(seen, 2000);
    assert.ok(store.stats.rangeGets < 20, `readType used ${store.stats.rangeGets} ranged reads`);
    assert.ok(putsForBackup < 40, `2,000 objects took ${putsForBackup} writes`);
  });

  it('seals neighbouring blobs together: far smaller than one by one, and one blob is still one ranged read', async () => {
    const store = new MemoryObjectStore();
    const { id } = await backup(await Repository.open(store, master, options), 2000);
    const repo = await Repository.open(store, master, options);
    const entries = await repo.listEntries(id, 'users');

    const key = Buffer.alloc(32);
    const oneByOne = entries.reduce(
      (n, e) => n + sealCompressed(key, 'segment', canonicalBytes(user(Number(e.displayName?.slice(5))))).length,
      0,
    );
    const packed = [...store.objects]
      .filter(([k]) => k.startsWith('packs/'))
      .reduce((n, [, o]) => n + o.bytes.length, 0);
    assert.ok(packed * 2 < oneByOne, `packs hold ${packed} bytes; the users sealed one by one take ${oneByOne}`);

    for (const e of entries.filter((_, i) => i % 97 === 0)) {
      store.stats.rangeGets = 0;
      assert.deepEqual(
        await repo.readObjectBytes(e.contentHash),
        canonicalBytes(user(Number(e.displayName?.slice(5)))),
      );
      assert.equal(store.stats.rangeGets, 1);
    }
    const check = await repo.check({ readData: true });
    assert.deepEqual(check.errors, []);
    assert.ok(check.blobsChecked >= 2000, `${check.blobsChecked} blobs checked`);
  });

  it('stores only new blobs after 1 % churn', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, options);
    const n = 5000;
    const t0 = new Date('2026-01-01T00:00:00Z');
    await backup(repo, n, new Set(), t0);
    const afterFirst = store.bytesUnder('packs/');
    const packsFirst = [...store.objects.keys()].filter((k) => k.startsWith('packs/')).length;

    const changed = new Set(Array.from({ length: n / 100 }, (_, k) => k * 100 + 7));
    const w = await repo.startSnapshot(TENANT, new Date('2026-01-02T00:00:00Z'));
    for (let i = 0; i < n; i++) await w.addObject('users', userId(i), `User ${i}`, user(i, changed.has(i) ? 1 : 0));
    const users = await w.finishType('users');
    const second = await w.commit();
    assert.equal(users.status, 'captured');

    const grown = store.bytesUnder('packs/') - afterFirst;
    assert.ok(grown < afterFirst * 0.05, `second snapshot added ${grown} bytes to ${afterFirst}`);
    const packsSecond = [...store.objects.keys()].filter((k) => k.startsWith('packs/')).length - packsFirst;
    assert.ok(packsSecond <= 2, `${packsSecond} new packs`);

    const entries = await repo.listEntries(second.id, 'users');
    assert.equal(entries.length, n);
    const before = new Map((await repo.listEntries((await repo.listSnapshots())[0].id, 'users')).map((e) => [e.id, e]));
    let differing = 0;
    for (const e of entries) if (before.get(e.id)?.contentHash !== e.contentHash) differing++;
    assert.equal(differing, changed.size);
    assert.deepEqual(await repo.readObject(entries.find((e) => e.id === userId(7))!.contentHash), user(7, 1));

    const root = await repo.readObject<ManifestRoot>(
      second.record.types.users.status === 'captured' ? second.record.types.users.manifest : '',
    );
    assert.notEqual(root.base, null, 'a 1 % change is stored as a diff manifest');
    assert.equal(root.count, n);
  });

  it('applies delta changes (changed, soft-deleted, hard-deleted) onto the previous manifest', async () => {
    const repo = await Repository.open(new MemoryObjectStore(), master, options);
    const first = await backup(repo, 100);
    const base = first.record.types.users;
    assert.equal(base.status, 'captured');

    const tw = await repo.openTypeWriter('users', { mode: 'changes', base: base.manifest });
    await tw.addObject(userId(1), 'User 1', user(1, 2));
    await tw.addObject(userId(500), 'User 500', user(500));
    await tw.markSoftDeleted(userId(2));
    await tw.remove(userId(3));
    const result = await tw.finish();
    assert.equal(result.count, 100);
    assert.equal(result.softDeleted, 1);
    const second = await repo.commitSnapshot({
      tenantId: TENANT,
      startedAt: new Date(),
      types: { users: { status: 'captured', count: result.count, softDeleted: 1, manifest: result.manifest } },
    });
    assert.equal(second.record.previous, first.id);

    const entries = new Map((await repo.listEntries(second.id, 'users')).map((e) => [e.id, e]));
    assert.equal(entries.size, 100);
    assert.ok(!entries.has(userId(3)));
    assert.equal(entries.get(userId(2))?.state, 'softDeleted');
    assert.deepEqual(await repo.readObject(entries.get(userId(2))!.contentHash), user(2), 'last content kept');
    assert.deepEqual(await repo.readObject(entries.get(userId(1))!.contentHash), user(1, 2));
    assert.ok(entries.has(userId(500)));
    assert.equal(entries.get(userId(50))?.contentHash, (await repo.listEntries(first.id, 'users'))[50].contentHash);
  });

  it('writes a full manifest again once a diff chain holds more changes than entries', async () => {
    const repo = await Repository.open(new MemoryObjectStore(), master, options);
    const bases: (string | null)[] = [];
    for (let day = 0; day < 7; day++) {
      // Each day flips ten users to a new version and the previous ten back: 20 changed entries a day after day 0.
      const changed = new Set(Array.from({ length: 10 }, (_, k) => day * 10 + k));
      const { id, record } = await backup(repo, 100, changed, new Date(Date.UTC(2026, 0, day + 1)));
      const users = record.types.users;
      assert.equal(users.status, 'captured');
      bases.push((await repo.readObject<ManifestRoot>(users.manifest)).base);
      assert.equal((await repo.listEntries(id, 'users')).length, 100);
    }
    // Day 1..5 add 20 changes each to the chain; on day 6 it would hold 120 changes for 100 entries.
    assert.deepEqual(
      bases.map((b) => (b === null ? 'full' : 'diff')),
      ['full', 'diff', 'diff', 'diff', 'diff', 'diff', 'full'],
    );
  });

  it('chunks large relationship lists so one membership change rewrites little', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, options);
    const n = 20_000;
    const members = Array.from({ length: n }, (_, i) => MEMBER(i));
    const w1 = await repo.startSnapshot(TENANT);
    await w1.addObject('groups', 'g', 'G', { id: 'g' }, { relationships: { members } });
    await w1.commit();
    const w2 = await repo.startSnapshot(TENANT);
    await w2.addObject('groups', 'g', 'G', { id: 'g' }, { relationships: { members: [...members, MEMBER(n)] } });
    const cov = await w2.finishType('groups');
    const s2 = await w2.commit();
    assert.equal(cov.status, 'captured');
    const [entry] = await repo.listEntries(s2.id, 'groups');
    assert.equal((await repo.readRelationship(entry.rels!.members)).length, n + 1);
    const lastPack = [...store.objects.keys()].filter((k) => k.startsWith('packs/')).length;
    assert.ok(lastPack <= 4, `${lastPack} packs for 20,000 members twice`);
  });

  it('does not list a snapshot whose record was never written', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, options);
    const done = await backup(repo, 10);
    const w = await repo.startSnapshot(TENANT);
    await w.addObject('users', userId(1), 'User 1', user(1, 9));
    await w.finishType('users');
    // No commit: the crash happened before the record.
    const listed = await (await Repository.open(store, master, options)).listSnapshots();
    assert.deepEqual(
      listed.map((s) => s.id),
      [done.id],
    );
  });

  it('detects a modified pack on read and in check', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, options);
    const { id } = await backup(repo, 300);
    assert.equal((await repo.check()).ok, true);

    const [entry] = await repo.listEntries(id, 'users');
    const packKey = [...store.objects.keys()].find((k) => k.startsWith('packs/'))!;
    const stored = store.objects.get(packKey)!;
    stored.bytes[10] ^= 0xff;

    const report = await repo.check();
    assert.equal(report.ok, false);
    assert.ok(
      report.errors.some((e) => e.includes('do not match')),
      report.errors.join('\n'),
    );
    const reads = await Promise.allSettled(
      (await repo.listEntries(id, 'users')).map((e) => repo.readObject(e.contentHash)),
    );
    assert.ok(reads.some((r) => r.status === 'rejected' && r.reason instanceof IntegrityError));
    assert.ok(entry);
  });

  it('detects a broken snapshot chain: a removed or altered record', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, master, options);
    const ids: string[] = [];
    for (let day = 1; day <= 3; day++)
      ids.push((await backup(repo, 20, new Set([day]), new Date(Date.UTC(2026, 0, day)))).id);
    const chain = await repo.verifyChain();
    assert.equal(chain.ok, true, chain.problems.join('\n'));
    assert.deepEqual(chain.order, ids);

    const middle = SNAPSHOT_PREFIX + ids[1];
    const saved = store.objects.get(middle)!;
    store.objects.delete(middle);
    const broken = await (await Repository.open(store, master, options)).verifyChain();
    assert.equal(broken.ok, false);
    assert.ok(
      broken.problems.some((p) => p.includes(ids[1])),
      broken.problems.join('\n'),
    );

    store.objects.set(middle, { ...saved, bytes: Buffer.from(saved.bytes) });
    store.objects.get(middle)!.bytes[20] ^= 1;
    const fresh = await Repository.open(store, master, options);
    const altered = await fresh.verifyChain();
    assert.equal(altered.ok, false);
    assert.ok(altered.problems.some((p) => p.includes('unreadable')));
    assert.ok(!(await fresh.listSnapshots()).some((s) => s.id === ids[1]), 'an altered record is never listed');
  });

  it('refuses to commit a snapshot naming a manifest that is not stored', async () => {
    const repo = await Repository.open(new MemoryObjectStore(), master, options);
    await assert.rejects(
      repo.commitSnapshot({
        tenantId: TENANT,
        startedAt: new Date(),
        types: { users: { status: 'captured', count: 1, softDeleted: 0, manifest: 'f'.repeat(64) } },
      }),
      /not stored/,
    );
  });

  it('stores a typed sync state with the type, and refuses one of another shape', async () => {
    const repo = await Repository.open(new MemoryObjectStore(), master, options);
    const writer = await repo.openTypeWriter('users', { mode: 'full' });
    const hash = await writer.addCanonicalObject(userId(1), 'User 1', canonicalBytes(user(1)));
    assert.equal(hash, sha256Hex(canonicalBytes(user(1))), 'the writer computes the content hash itself');
    const state = { directory: TENANT, deltaLink: 'https://graph.example/delta?token=1', deltaRounds: 2 };
    writer.setSyncState(state);
    const result = await writer.finish();
    assert.ok(result.syncState);
    assert.deepEqual(await repo.readSyncState(result.syncState), state);

    const other = await repo.openTypeWriter('groups', { mode: 'full' });
    other.setSyncState({ directory: TENANT, deltaLink: 'x' } as unknown as SyncState);
    const bad = await other.finish();
    await assert.rejects(repo.readSyncState(bad.syncState!), IntegrityError);
  });
});
