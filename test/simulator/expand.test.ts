import assert from 'node:assert/strict';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphClient, graphFetch, startTenant, token } from './helpers';

type Item = Record<string, unknown> & { id: string };
interface Page {
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  value: Item[];
}

describe('simulator: $expand and scopedRoleMembers', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 60, app: 'backup' })));
  after(() => sim.close());

  it('expands group members (at most 20, no nextLink) and costs one more resource unit', async () => {
    const page = (await client.api('/groups').filter("displayName eq 'All Users'").expand('members').get()) as Page;
    const group = page.value[0];
    const members = group.members as Item[];
    assert.equal(sim.control.listMembers(tenantId, group.id).length, 60);
    assert.equal(members.length, 20);
    assert.equal(group['members@odata.nextLink'], undefined);
    assert.ok(members.every((m) => m['@odata.type'] === '#microsoft.graph.user' && typeof m.id === 'string'));
    assert.ok(
      members.every((m) => 'userPrincipalName' in m && !('department' in m)),
      'default user properties',
    );
    const t = await token(sim, tenantId, backup);
    const plain = await graphFetch(sim, t, '/groups');
    const expanded = await graphFetch(sim, t, '/groups?$expand=members');
    assert.equal(
      Number(expanded.headers.get('x-ms-resource-unit')),
      Number(plain.headers.get('x-ms-resource-unit')) + 1,
    );
  });

  it('expands owners on a group and an application, with a nested $select', async () => {
    const groups = (await client.api('/groups').expand('owners($select=id,displayName)').top(999).get()) as Page;
    const owned = groups.value.filter((g) => (g.owners as Item[]).length > 0);
    assert.ok(owned.length > 0);
    for (const o of owned.flatMap((g) => g.owners as Item[]))
      assert.deepEqual(Object.keys(o).sort(), ['@odata.type', 'displayName', 'id']);
    const one = (await client.api(`/groups/${owned[0].id}`).expand('owners').get()) as Item;
    assert.deepEqual(
      (one.owners as Item[]).map((o) => o.id),
      (owned[0].owners as Item[]).map((o) => o.id),
    );
    const apps = (await client.api('/applications').expand('owners').top(5).get()) as Page;
    assert.ok(apps.value.length > 0);
    assert.ok(apps.value.every((a) => Array.isArray(a.owners)));
    assert.ok(apps.value.some((a) => (a.owners as Item[]).length > 0));
  });

  it('rejects an unknown relationship and $expand with an advanced query', async () => {
    await assert.rejects(client.api('/users').expand('members').get(), (e: GraphError) => e.statusCode === 400);
    const t = await token(sim, tenantId, backup);
    const r = await graphFetch(sim, t, '/groups?$expand=members&$count=true', {
      headers: { ConsistencyLevel: 'eventual' },
    });
    assert.equal(r.status, 400);
  });

  it('lists scopedRoleMembers of an administrative unit with RoleManagement.Read.Directory or Directory.Read.All', async () => {
    const au = sim.control.listObjects(tenantId, 'administrativeUnit', { limit: 1 })[0];
    const page = (await client.api(`/directory/administrativeUnits/${au.id}/scopedRoleMembers`).get()) as Page;
    assert.match(page['@odata.context'] as string, /scopedRoleMembers$/);
    assert.ok(page.value.length >= 1);
    const m = page.value[0];
    assert.equal(m.administrativeUnitId, au.id);
    assert.equal(sim.control.getObject(tenantId, m.roleId as string).kind, 'directoryRole');
    const info = m.roleMemberInfo as Item;
    assert.equal(sim.control.getObject(tenantId, info.id).kind, 'user');
    assert.equal(typeof info.displayName, 'string');

    const roleOnly = (roles: string[]) => {
      const a = sim.control.registerApp({ displayName: roles.join('+'), requiredRoles: roles });
      sim.control.grantConsent(tenantId, a.clientId);
      return graphClient(sim, tenantId, { clientId: a.clientId, secret: a.secret as string });
    };
    const url = `/directory/administrativeUnits/${au.id}/scopedRoleMembers`;
    for (const roles of [['RoleManagement.Read.Directory'], ['Directory.Read.All']]) {
      const r = (await roleOnly(roles).api(url).get()) as Page;
      assert.equal(r.value.length, page.value.length, roles[0]);
    }
    await assert.rejects(
      roleOnly(['AdministrativeUnit.Read.All']).api(url).get(),
      (e: GraphError) => e.statusCode === 403 && e.code === 'Authorization_RequestDenied',
    );
  });
});
