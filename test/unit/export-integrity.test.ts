import assert from 'node:assert/strict';
import { objectEntryName, relationshipEntryName, safeDisplayName } from '../../exports/entry-names';
import { inGraphShape } from '../../exports/odata-types';
import { MasterKey } from '../../storage/data-keys';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { Repository } from '../../storage/repository';
import { verifySnapshot } from '../../storage/verify-snapshot';

const id = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

describe('export file names', () => {
  it('are safe on every OS and keep the display name readable', () => {
    assert.equal(safeDisplayName('Sales / EMEA: "Tier*1"?'), 'Sales _ EMEA_ _Tier_1__');
    assert.equal(safeDisplayName('  trailing dots... '), 'trailing dots');
    assert.equal(safeDisplayName('line\nbreak\\tab\t'), 'line_break_tab_');
    assert.equal(safeDisplayName(null), 'unnamed');
    assert.equal(safeDisplayName('...'), 'unnamed');
    const long = safeDisplayName('é'.repeat(200));
    assert.ok(Buffer.byteLength(long) <= 80 && /^é+$/.test(long), 'cut at a whole character');
    assert.equal(objectEntryName('users', id(1), 'Adele Vance', false), `users/Adele Vance__${id(1)}.json`);
    assert.equal(objectEntryName('users', id(1), 'Adele', true), `users/recycle-bin/Adele__${id(1)}.json`);
  });

  it('never collide: ids are escaped injectively, case and dots included', () => {
    const names = new Set<string>();
    const ids = ['abc', 'ABC', 'aBc', 'a.b', 'a%2Eb', 'a/b', 'a_b', 'a b', 'x.members'];
    for (const i of ids) {
      names.add(objectEntryName('t', i, 'same name', false).toLowerCase());
      names.add(relationshipEntryName('t', i, 'same name', false, 'members').toLowerCase());
    }
    names.add(relationshipEntryName('t', 'x', 'same name', false, 'members').toLowerCase());
    assert.equal(names.size, ids.length * 2 + 1, 'all distinct even on a case-insensitive file system');
    // eslint-disable-next-line no-control-regex
    for (const n of names) assert.doesNotMatch(n.split('/').pop()!, /[<>:"\\|?*\u0000-\u001f]/);
  });

  it('carry the OData type of the catalog type unless the object has its own', () => {
    assert.equal(inGraphShape('users', { id: 'u' })['@odata.type'], '#microsoft.graph.user');
    const ip = { '@odata.type': '#microsoft.graph.ipNamedLocation', id: 'n' };
    assert.equal(inGraphShape('namedLocations', ip)['@odata.type'], '#microsoft.graph.ipNamedLocation');
  });
});

describe('verify: every bad blob of a snapshot, with the objects using it', () => {
  it('reports one changed byte in a pack, naming the pack and the users whose segment it broke', async () => {
    const store = new MemoryObjectStore();
    const master = MasterKey.generate();
    const repo = await Repository.open(store, master);
    const w = await repo.startSnapshot('tenant');
    for (let i = 0; i < 300; i++) {
      await w.addObject('users', id(i), `User ${i}`, { id: id(i), displayName: `User ${i}`, pad: 'x'.repeat(400) });
    }
    await w.addObject(
      'groups',
      'g',
      'All',
      { id: 'g', displayName: 'All' },
      { relationships: { members: [{ id: id(1) }] } },
    );
    await w.finishType('users');
    await w.finishType('groups');
    const { id: snapshotId } = await w.commit();

    const clean = await verifySnapshot(repo, snapshotId);
    assert.deepEqual(clean.badBlobs, []);
    assert.deepEqual(clean.errors, []);
    assert.equal(clean.blobsChecked, 300 + 1 + 1);

    // Damage the segment holding user 150's object.
    const entry = (await repo.listEntries(snapshotId, 'users')).find((e) => e.id === id(150))!;
    let location;
    for await (const read of repo.readBlobsReporting([entry.contentHash])) location = read.location!;
    const key = `packs/${location!.packId}`;
    const bytes = Buffer.from((await store.get(key))!);
    bytes[location!.offset + 40] ^= 0xff;
    await store.put(key, bytes);

    const reopened = await Repository.open(store, master);
    const report = await verifySnapshot(reopened, snapshotId);
    assert.ok(report.badBlobs.length >= 1);
    const bad = report.badBlobs.find((b) => b.blobId === entry.contentHash);
    assert.ok(bad, 'the damaged user is reported');
    assert.equal(bad.packId, location!.packId);
    assert.deepEqual(bad.usedBy, [`users/${id(150)}`]);
    assert.match(bad.error, new RegExp(`in pack ${location!.packId}`));
    assert.ok(
      report.badBlobs.every((b) => b.packId === location!.packId && b.usedBy.length > 0),
      'only blobs of that pack, each named by what uses it',
    );
    assert.ok(report.blobsChecked === clean.blobsChecked, 'nothing stopped at the first failure');

    // The repository-wide check names the same blob in the same pack.
    const check = await reopened.check({ readData: true });
    assert.ok(check.errors.some((e) => e.includes(`blob ${entry.contentHash} in pack ${location!.packId}`)));
  });
});
