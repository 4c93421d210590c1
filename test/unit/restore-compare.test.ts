import assert from 'node:assert/strict';
import {
  attributeChanges,
  conditionalAccessReferences,
  remapIds,
  sameValue,
  secretsOf,
  writableAttributes,
} from '../../restore/compare';

describe('restore: what a restore writes back and how it compares', () => {
  it('writes back only properties Graph lets it set', () => {
    const user = {
      id: 'u1',
      displayName: 'Ada',
      jobTitle: 'Engineer',
      createdDateTime: '2020-01-01T00:00:00Z',
      securityIdentifier: 'S-1-12-1',
      proxyAddresses: ['SMTP:ada@contoso.example'],
      '@odata.type': '#microsoft.graph.user',
    };
    assert.deepEqual(writableAttributes('users', user), ['displayName', 'jobTitle']);
    const app = { id: 'a', appId: 'x', displayName: 'App', passwordCredentials: [{ keyId: 'k' }], notes: 'n' };
    assert.deepEqual(writableAttributes('applications', app), ['displayName', 'notes']);
  });

  it('treats absent, null and empty collections alike, and compares objects whatever their key order', () => {
    assert.ok(sameValue(null, undefined));
    assert.ok(sameValue([], null));
    assert.ok(sameValue({ a: 1, b: [] }, { a: 1 }));
    assert.ok(sameValue({ b: { y: 2, x: 1 }, a: 1 }, { a: 1, b: { x: 1, y: 2 } }));
    assert.ok(!sameValue(['a', 'b'], ['b', 'a']), 'order of a list is kept');
    assert.ok(!sameValue('Engineer', 'engineer'));
  });

  it('lists changed attributes old -> new, clearing properties set after the backup', () => {
    const captured = { id: 'u1', displayName: 'Ada', jobTitle: 'Engineer' };
    const live = { id: 'u1', displayName: 'Ada', jobTitle: 'Damaged', department: 'Added later' };
    assert.deepEqual(attributeChanges('users', captured, live), [
      { name: 'department', current: 'Added later', restored: null },
      { name: 'jobTitle', current: 'Damaged', restored: 'Engineer' },
    ]);
    assert.deepEqual(attributeChanges('users', captured, captured), []);
    assert.deepEqual(
      attributeChanges('users', captured, null).map((c) => c.name),
      ['displayName', 'jobTitle'],
    );
  });

  it('remaps old ids to new ones everywhere, also inside URIs such as api://{appId}', () => {
    const policy = {
      conditions: {
        users: { excludeGroups: ['old-group'], includeUsers: ['All'] },
        applications: { excludeApplications: ['old-app'] },
      },
    };
    const mapping = { 'old-group': 'new-group', 'old-app': 'new-app' };
    assert.deepEqual(remapIds(policy, mapping), {
      conditions: {
        users: { excludeGroups: ['new-group'], includeUsers: ['All'] },
        applications: { excludeApplications: ['new-app'] },
      },
    });
    assert.deepEqual(remapIds(['api://old-app'], mapping), ['api://new-app']);
    assert.deepEqual(conditionalAccessReferences(policy).sort(), ['All', 'old-app', 'old-group']);
  });

  it('names the secrets an admin must issue again instead of inventing them', () => {
    assert.deepEqual(
      secretsOf('applications', {
        passwordCredentials: [{ displayName: 'ci', keyId: 'k1' }],
        keyCredentials: [{ keyId: 'k2' }],
      }),
      ["client secret 'ci'", "certificate 'k2'"],
    );
    assert.equal(secretsOf('users', {}).length, 1);
    assert.deepEqual(secretsOf('groups', {}), []);
  });
});
