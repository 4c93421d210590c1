import assert from 'node:assert/strict';
import {
  auditActivityMatches,
  auditTrackedRelationships,
  classifyReadError,
  getRelationship,
  deltaStartUrl,
  firstPageUrl,
  getObjectType,
  isObjectTypeKey,
  listObjectTypes,
  OBJECT_TYPES,
  relationshipUrl,
  requiredReadPermissions,
  requiredWritePermissions,
  restoreOrder,
  type ObjectTypeSpec,
} from '../../catalog';

const REQUIRED_TYPES = [
  'users',
  'groups',
  'applications',
  'servicePrincipals',
  'oauth2PermissionGrants',
  'conditionalAccessPolicies',
  'namedLocations',
  'directoryRoles',
  'roleDefinitions',
  'roleAssignments',
  'administrativeUnits',
  'authenticationMethodsPolicy',
  'authorizationPolicy',
  'crossTenantAccessPolicy',
  'domains',
  'organization',
  'devices',
];

const types: readonly ObjectTypeSpec[] = listObjectTypes();

describe('catalog', () => {
  it('covers every type the backup must capture, each key once', () => {
    const keys = types.map((t) => t.key);
    assert.equal(new Set(keys).size, keys.length, 'duplicate keys');
    for (const key of REQUIRED_TYPES) assert.ok(isObjectTypeKey(key), `missing ${key}`);
  });

  it('gives every type a read permission and, unless not restorable, a write permission', () => {
    for (const t of types) {
      assert.match(t.permissions.read, /\.Read/, `${t.key} read permission`);
      if (t.restore.strategy !== 'not-restorable') assert.ok(t.permissions.write.length > 0, `${t.key} write`);
      for (const rel of t.relationships) assert.ok(rel.readPermission && rel.writePermissions.length > 0, rel.key);
    }
  });

  it('gives every delta type a delta path under its own path, and singletons neither delta nor paging', () => {
    for (const t of types) {
      if (t.delta) assert.equal(t.delta.path, `${t.path}/delta`, t.key);
      if (t.singleton) {
        assert.equal(t.delta, null, t.key);
        assert.equal(t.pageSize, null, t.key);
        assert.equal(t.relationships.length, 0, `${t.key}: a singleton has no per-parent children`);
      }
    }
    assert.ok(getObjectType('users').delta);
    assert.equal(getObjectType('conditionalAccessPolicies').delta, null);
    assert.ok(getObjectType('authorizationPolicy').singleton);
  });

  it('keeps page sizes within what Graph accepts and leaves unpaged resources unpaged', () => {
    for (const t of types) {
      if (t.pageSize !== null) assert.ok(t.pageSize >= 1 && t.pageSize <= 999, t.key);
      for (const r of t.relationships) if (r.pageSize !== null) assert.ok(r.pageSize >= 1 && r.pageSize <= 999);
    }
    assert.equal(getObjectType('directoryRoles').pageSize, null, 'directoryRoles do not support paging');
    assert.equal(getObjectType('users').pageSize, 999);
  });

  it('never selects properties Graph refuses in lists', () => {
    const users = getObjectType('users').select ?? [];
    for (const p of ['signInActivity', 'aboutMe', 'skills', 'birthday', 'mailboxSettings', 'passwordProfile']) {
      assert.ok(!users.includes(p), `users selects ${p}`);
    }
    const groups = getObjectType('groups').select ?? [];
    for (const p of ['allowExternalSenders', 'autoSubscribeNewMembers', 'hideFromAddressLists', 'unseenCount']) {
      assert.ok(!groups.includes(p), `groups selects ${p}`);
    }
    for (const t of types) {
      if (t.select) {
        assert.ok(t.select.includes(t.idProperty), `${t.key} selects its id`);
        assert.equal(new Set(t.select).size, t.select.length, `${t.key} selects a property twice`);
        if (t.displayNameProperty) assert.ok(t.select.includes(t.displayNameProperty), `${t.key} display name`);
      }
    }
  });

  it('puts {id} in every relationship path and points relationships at catalog types', () => {
    for (const t of types) {
      for (const rel of t.relationships) {
        assert.ok(rel.path.startsWith(`${t.path}/{id}/`), `${t.key}.${rel.key}: ${rel.path}`);
        assert.ok(rel.select.includes('id'), `${t.key}.${rel.key} selects id`);
        for (const target of rel.targets) assert.ok(isObjectTypeKey(target), `${t.key}.${rel.key} → ${target}`);
      }
    }
  });

  it('names a deletedItems cast exactly for the restore strategies that use the recycle bin', () => {
    for (const t of types) {
      const usesBin = t.restore.strategy === 'recycle-bin-then-recreate';
      assert.equal(t.deletedItemsCast !== null, usesBin, t.key);
      if (t.deletedItemsCast) assert.match(t.deletedItemsCast, /^microsoft\.graph\.[a-zA-Z]+$/);
    }
    assert.equal(getObjectType('users').deletedItemsCast, 'microsoft.graph.user');
  });

  it('never lets a re-create send the id Graph assigns', () => {
    for (const t of types) {
      if (t.restore.strategy === 'recycle-bin-then-recreate' || t.restore.strategy === 'recreate-with-id-remap') {
        assert.ok(t.restore.stripOnCreate.includes('id'), t.key);
      }
    }
  });

  it('builds first-page URLs with $select and $top', () => {
    const users = firstPageUrl('users');
    assert.ok(users.startsWith('https://graph.microsoft.com/v1.0/users?$select=id,accountEnabled,'));
    assert.ok(users.endsWith('&$top=999'));
    assert.equal(
      firstPageUrl('directoryRoles', { baseUrl: 'https://sim.local/v1.0' }),
      'https://sim.local/v1.0/directoryRoles?$select=id,description,displayName,roleTemplateId',
    );
    assert.equal(firstPageUrl('authorizationPolicy'), 'https://graph.microsoft.com/v1.0/policies/authorizationPolicy');
    assert.equal(
      firstPageUrl('conditionalAccessPolicies'),
      'https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies',
    );
  });

  it('builds delta URLs without $top and with tracked relationships selected', () => {
    const groups = deltaStartUrl('groups');
    assert.ok(groups.startsWith('https://graph.microsoft.com/v1.0/groups/delta?$select=id,'));
    assert.ok(groups.endsWith(',members'));
    assert.ok(!groups.includes('$top'));
    assert.throws(() => deltaStartUrl('roleAssignments'), /does not support delta/);
  });

  it('builds relationship URLs for one parent', () => {
    assert.equal(
      relationshipUrl('groups', 'members', '0b5c-42'),
      'https://graph.microsoft.com/v1.0/groups/0b5c-42/members?$select=id&$top=999',
    );
    assert.equal(
      relationshipUrl('directoryRoles', 'members', 'r1', { baseUrl: 'http://x/v1.0' }),
      'http://x/v1.0/directoryRoles/r1/members?$select=id',
    );
    assert.ok(relationshipUrl('groups', 'owners', 'a/b').includes('/groups/a%2Fb/owners'));
    assert.throws(() => relationshipUrl('users', 'members', 'x'), /no relationship/);
  });

  it('unions permissions: Backup reads, Restore writes', () => {
    const read = requiredReadPermissions();
    assert.deepEqual(read, [...new Set(read)].sort());
    for (const p of [
      'User.Read.All',
      'Group.Read.All',
      'GroupMember.Read.All',
      'Application.Read.All',
      'Policy.Read.All',
      'RoleManagement.Read.Directory',
      'AdministrativeUnit.Read.All',
      'Policy.Read.AuthenticationMethod',
      'Directory.Read.All',
    ]) {
      assert.ok(read.includes(p as never), p);
    }
    assert.ok(
      read.every((p) => !p.includes('ReadWrite')),
      'the Backup app must never hold a write permission',
    );
    // Plus the audit log, which keeps relationships delta does not report current between full reads.
    const expected = new Set([
      ...types.flatMap((t) => [t.permissions.read, ...t.relationships.map((r) => r.readPermission)]),
      'AuditLog.Read.All',
    ]);
    assert.deepEqual(new Set(read), expected);
    assert.deepEqual(requiredReadPermissions(['users']), ['User.Read.All']);
    assert.ok(requiredReadPermissions(['applications']).includes('AuditLog.Read.All'));
    // Every relationship delta does not report names the audit activities that reveal its changes.
    for (const t of types) {
      for (const r of auditTrackedRelationships(t))
        assert.ok((r.auditActivities ?? []).length > 0, `${t.key}.${r.key}`);
    }
    assert.ok(
      auditActivityMatches(
        getRelationship('applications', 'federatedIdentityCredentials'),
        'Update application \u2013 Certificates and secrets management ',
      ),
    );
    assert.ok(!auditActivityMatches(getRelationship('applications', 'owners'), 'Add owner to service principal'));

    const write = requiredWritePermissions();
    for (const p of ['User.ReadWrite.All', 'Group.ReadWrite.All', 'Policy.ReadWrite.ConditionalAccess']) {
      assert.ok(write.includes(p as never), p);
    }
    assert.deepEqual(requiredWritePermissions(['groups']), ['Group.ReadWrite.All', 'GroupMember.ReadWrite.All']);
  });

  it('orders restore so every type comes after the types it references', () => {
    const order = restoreOrder();
    assert.equal(order.length, types.length);
    assert.equal(new Set(order).size, order.length);
    const position = new Map(order.map((k, i) => [k, i]));
    for (const t of types) {
      for (const dep of t.restore.dependsOn) {
        assert.ok(isObjectTypeKey(dep), `${t.key} depends on unknown ${dep}`);
        assert.ok((position.get(dep) ?? Infinity) < (position.get(t.key) ?? -1), `${dep} must precede ${t.key}`);
      }
    }
    assert.ok(order.indexOf('namedLocations') < order.indexOf('conditionalAccessPolicies'));
    assert.ok(order.indexOf('applications') < order.indexOf('servicePrincipals'));
  });

  it('rejects a dependency cycle', () => {
    const a = { ...OBJECT_TYPES[0], key: 'a', restore: { ...OBJECT_TYPES[0].restore, dependsOn: ['b'] } };
    const b = { ...OBJECT_TYPES[0], key: 'b', restore: { ...OBJECT_TYPES[0].restore, dependsOn: ['a'] } };
    assert.throws(() => restoreOrder([a, b]), /cycle/);
  });

  it('tells an unlicensed feature and a missing permission from a real error', () => {
    assert.equal(
      classifyReadError('conditionalAccessPolicies', { status: 403, code: 'AadPremiumLicenseRequired' }),
      'feature-not-licensed',
    );
    assert.equal(
      classifyReadError('users', { status: 403, code: 'Authorization_RequestDenied' }),
      'permission-missing',
    );
    assert.equal(classifyReadError('users', { status: 500, code: 'UnknownError' }), undefined);
  });
});
