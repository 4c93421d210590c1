import assert from 'node:assert/strict';
import {
  diffObjects,
  diffSnapshots,
  diffText,
  invertAttributeChanges,
  type DiffSource,
  type RelatedItem,
  type SnapshotEntry,
  type TypeDiff,
} from '../../diff';

describe('diff (pure)', () => {
  const sets = [
    'proxyAddresses',
    'conditions.users.includeUsers',
    'assignedLicenses',
    'assignedLicenses[].disabledPlans',
  ];

  it('names changes by dotted path, compares declared arrays as sets and others in order', () => {
    const before = {
      id: '1',
      jobTitle: 'Engineer',
      proxyAddresses: ['SMTP:a@x', 'smtp:b@x', 'smtp:c@x'],
      businessPhones: ['1', '2'],
      onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: 'b' },
      conditions: { users: { includeUsers: ['u1', 'u2'] } },
      assignedLicenses: [
        { skuId: 's1', disabledPlans: ['p1', 'p2'] },
        { skuId: 's2', disabledPlans: [] },
      ],
      department: 'Sales',
    };
    const after = {
      id: '1',
      jobTitle: 'Chief Restorer',
      // reordered, one added, one removed
      proxyAddresses: ['smtp:d@x', 'smtp:b@x', 'SMTP:a@x'],
      businessPhones: ['2', '1'],
      onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: 'B' },
      conditions: { users: { includeUsers: ['u2', 'u1'] } },
      // reordered at both levels: no change
      assignedLicenses: [
        { skuId: 's2', disabledPlans: [] },
        { disabledPlans: ['p2', 'p1'], skuId: 's1' },
      ],
      city: 'Oslo',
    };
    const changes = diffObjects(before, after, sets);
    assert.deepEqual(changes, [
      { path: 'businessPhones', kind: 'value', old: ['1', '2'], new: ['2', '1'] },
      { path: 'city', kind: 'value', new: 'Oslo' },
      { path: 'department', kind: 'value', old: 'Sales' },
      { path: 'jobTitle', kind: 'value', old: 'Engineer', new: 'Chief Restorer' },
      { path: 'onPremisesExtensionAttributes.extensionAttribute2', kind: 'value', old: 'b', new: 'B' },
      { path: 'proxyAddresses', kind: 'set', added: ['smtp:d@x'], removed: ['smtp:c@x'] },
    ]);
    assert.deepEqual(diffObjects(after, before, sets), invertAttributeChanges(changes));
    assert.deepEqual(diffObjects(before, structuredClone(before), sets), []);
  });

  it('a set that appears where there was none lists its items as added', () => {
    assert.deepEqual(diffObjects({ id: 'x' }, { id: 'x', proxyAddresses: ['a'] }, sets), [
      { path: 'proxyAddresses', kind: 'set', added: ['a'], removed: [] },
    ]);
  });

  /** Two snapshots of users and groups in memory, around one of every kind of change. */
  function scripted() {
    const objects = new Map<string, Record<string, unknown>>();
    const rels = new Map<string, RelatedItem[]>();
    let n = 0;
    const entry = (
      id: string,
      object: Record<string, unknown>,
      state: SnapshotEntry['state'] = 'present',
      relationships?: Record<string, RelatedItem[]>,
    ): SnapshotEntry => {
      const contentHash = `h${n++}`;
      objects.set(contentHash, object);
      const e: SnapshotEntry = { id, displayName: (object.displayName as string) ?? null, contentHash, state };
      if (relationships) {
        e.rels = {};
        for (const [k, items] of Object.entries(relationships)) {
          const key = `r${n++}`;
          rels.set(key, items);
          e.rels[k] = key;
        }
      }
      return e;
    };
    const same = (e: SnapshotEntry): SnapshotEntry => ({ ...e });
    const u = (id: string, extra: Record<string, unknown> = {}) => ({ id, displayName: `User ${id}`, ...extra });
    const kept = entry('u0', u('u0'));
    const from = new Map<string, SnapshotEntry>([
      ['u0', kept],
      ['u1', entry('u1', u('u1', { jobTitle: 'A', proxyAddresses: ['x', 'y'] }))],
      ['u2', entry('u2', u('u2', { proxyAddresses: ['p', 'q'] }))],
      ['u3', entry('u3', u('u3'))],
      ['u4', entry('u4', u('u4'))],
      ['u5', entry('u5', u('u5'), 'softDeleted')],
    ]);
    const to = new Map<string, SnapshotEntry>([
      ['u0', same(kept)],
      ['u1', entry('u1', u('u1', { jobTitle: 'B', proxyAddresses: ['y', 'x'] }))],
      ['u2', entry('u2', u('u2', { proxyAddresses: ['q', 'p'] }))], // reordered only: not a change
      // Read from the recycle bin: deletedDateTime is set, which the state already says.
      ['u3', entry('u3', u('u3', { deletedDateTime: '2026-01-01T00:00:00Z' }), 'softDeleted')],
      // u4 hard-deleted
      ['u5', { ...from.get('u5')!, state: 'present' }],
      ['u6', entry('u6', u('u6'))],
    ]);
    const member = (id: string) => ({ '@odata.type': '#microsoft.graph.user', id });
    const groupsFrom = new Map([
      [
        'g',
        entry('g', { id: 'g', displayName: 'G' }, 'present', {
          members: [member('u0'), member('u1')],
          owners: [member('u0')],
        }),
      ],
    ]);
    const relsOnly = entry('g', { id: 'g', displayName: 'G' }, 'present', {
      members: [member('u1'), member('u6')],
      owners: [member('u1')],
    });
    // Only its relationships changed: the group's content hash is the same, so its object is never decoded.
    const groupsTo = new Map([['g', { ...relsOnly, contentHash: groupsFrom.get('g')!.contentHash }]]);
    // Unchanged types share their manifest id and are never read.
    const coverageFrom = {
      users: { manifest: 'mu1' },
      groups: { manifest: 'mg1' },
      devices: { manifest: 'md' },
      conditionalAccessPolicies: { skipped: 'feature-not-licensed' },
    };
    const coverageTo = {
      users: { manifest: 'mu2' },
      groups: { manifest: 'mg2' },
      devices: { manifest: 'md' },
      conditionalAccessPolicies: { skipped: 'feature-not-licensed' },
    };
    const reads: string[] = [];
    const source = (swap: boolean): DiffSource => {
      const side = (s: 'from' | 'to') => ((s === 'from') !== swap ? 'from' : 'to');
      return {
        coverage: (s) => Promise.resolve(side(s) === 'from' ? coverageFrom : coverageTo),
        entries: (s, type) => {
          assert.notEqual(type, 'devices', 'an unchanged type is not read');
          const f = side(s) === 'from';
          return Promise.resolve(type === 'users' ? (f ? from : to) : f ? groupsFrom : groupsTo);
        },
        readObjects: (_s, _type, entries) => {
          reads.push(...entries.map((e) => e.id));
          return Promise.resolve(new Map(entries.map((e) => [e.contentHash, objects.get(e.contentHash)!])));
        },
        readRelationship: (_s, id) => Promise.resolve(rels.get(id)!),
        describe: (_s, _type, _rel, _parent, items) =>
          Promise.resolve(items.map((i) => ({ id: i.id, type: 'users', displayName: `User ${i.id}` }))),
        unorderedArrays: (type) => (type === 'users' ? ['proxyAddresses'] : []),
        ignoredProperties: () => ['deletedDateTime'],
      };
    };
    return { source, reads };
  }

  it('reports exactly the scripted changes, reading only objects whose content differs', async () => {
    const { source, reads } = scripted();
    const diff = await diffSnapshots(source(false));
    const users = diff.find((t) => t.type === 'users')!;
    assert.deepEqual(users.added, [{ id: 'u6', displayName: 'User u6' }]);
    assert.deepEqual(users.removed, [
      { id: 'u3', displayName: 'User u3', deletion: 'soft' },
      { id: 'u4', displayName: 'User u4', deletion: 'hard' },
    ]);
    assert.deepEqual(users.restored, [{ id: 'u5', displayName: 'User u5' }]);
    assert.deepEqual(users.changed, [
      {
        id: 'u1',
        displayName: 'User u1',
        attributes: [{ path: 'jobTitle', kind: 'value', old: 'A', new: 'B' }],
        relationships: [],
      },
    ]);
    assert.deepEqual(
      reads.sort(),
      ['u1', 'u1', 'u2', 'u2', 'u3', 'u3'],
      'only objects with new content hashes are decoded',
    );
    const groups = diff.find((t) => t.type === 'groups')!;
    assert.deepEqual(groups.changed[0].relationships, [
      {
        relationship: 'members',
        added: [{ id: 'u6', type: 'users', displayName: 'User u6' }],
        removed: [{ id: 'u0', type: 'users', displayName: 'User u0' }],
        changed: [],
      },
      {
        relationship: 'owners',
        added: [{ id: 'u1', type: 'users', displayName: 'User u1' }],
        removed: [{ id: 'u0', type: 'users', displayName: 'User u0' }],
        changed: [],
      },
    ]);
    assert.equal(diff.find((t) => t.type === 'conditionalAccessPolicies')!.comparable, false);
    assert.deepEqual(
      diff.find((t) => t.type === 'devices'),
      {
        type: 'devices',
        comparable: true,
        added: [],
        removed: [],
        restored: [],
        changed: [],
      },
    );
    const text = diffText({ id: 'a', startedAt: 't1' }, { id: 'b', startedAt: 't2' }, diff);
    assert.match(text, /1 added, 2 removed \(1 to the recycle bin, 1 for good\), 1 restored, 2 changed/);
    assert.match(text, /jobTitle: "A" -> "B"/);
    assert.match(text, /members: \+ User u6 \(users u6\)/);
  });

  it('B → A is the inverse of A → B', async () => {
    const { source } = scripted();
    const ab = await diffSnapshots(source(false));
    const ba = await diffSnapshots(source(true));
    assert.deepEqual(ba, ab.map(invert));
  });

  it('filters by type and object id', async () => {
    const { source } = scripted();
    const diff = await diffSnapshots(source(false), { type: 'users', objectId: 'u4' });
    assert.deepEqual(
      diff.map((t) => t.type),
      ['users'],
    );
    assert.deepEqual(diff[0].removed, [{ id: 'u4', displayName: 'User u4', deletion: 'hard' }]);
    assert.deepEqual([diff[0].added, diff[0].changed, diff[0].restored], [[], [], []]);
  });
});

/** What B → A must be, given A → B. */
function invert(t: TypeDiff): TypeDiff {
  const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : 1);
  return {
    ...t,
    ...(t.reason
      ? {
          reason: t.reason
            .replace(/first|second/g, (w) => (w === 'first' ? 'second' : 'first'))
            .split('; ')
            .reverse()
            .join('; '),
        }
      : {}),
    added: t.removed.filter((r) => r.deletion === 'hard').map(({ id, displayName }) => ({ id, displayName })),
    removed: [
      ...t.added.map((a) => ({ ...a, deletion: 'hard' as const })),
      ...t.restored.map((a) => ({ ...a, deletion: 'soft' as const })),
    ].sort(byId),
    restored: t.removed.filter((r) => r.deletion === 'soft').map(({ id, displayName }) => ({ id, displayName })),
    changed: t.changed.map((c) => ({
      ...c,
      attributes: invertAttributeChanges(c.attributes),
      relationships: c.relationships.map((r) => ({ ...r, added: r.removed, removed: r.added })),
    })),
  };
}
