import assert from 'node:assert/strict';
import { PageIterator, GraphError, Client } from '@microsoft/microsoft-graph-client';
import type * as MG from '@microsoft/microsoft-graph-types';
import { Simulator } from '../../simulator';
import { TestApp, graphFetch, startTenant, token } from './helpers';

interface Page<T> {
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  value: T[];
}

async function collectAll<T>(client: Client, page: Page<T>): Promise<T[]> {
  const out: T[] = [];
  const it = new PageIterator(client, page, (item: T) => {
    out.push(item);
    return true;
  });
  await it.iterate();
  return out;
}

describe('simulator: Graph reads, paging and permissions', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 2500, app: 'backup' })));
  after(() => sim.close());

  it('pages /users with $top=999 through PageIterator and absolute https nextLinks', async () => {
    const first = (await client.api('/users').top(999).get()) as Page<MG.User>;
    assert.equal(first.value.length, 999);
    assert.ok(first['@odata.nextLink']?.startsWith(`${sim.graphRootUrl}/users?`));
    assert.match(first['@odata.nextLink'] as string, /\$top=999/);
    const all = await collectAll(client, first);
    assert.equal(all.length, 2500);
    assert.equal(new Set(all.map((u) => u.id)).size, 2500);
  });

  it('returns the default user property set without $select and only selected ones with it', async () => {
    const page = (await client.api('/users').top(5).get()) as Page<Record<string, unknown>>;
    assert.equal(page['@odata.context'], `${sim.graphRootUrl}/$metadata#users`);
    const u = page.value[0];
    assert.ok('userPrincipalName' in u && 'businessPhones' in u);
    assert.ok(!('accountEnabled' in u) && !('department' in u));
    const sel = (await client.api('/users').select(['id', 'accountEnabled', 'department']).top(5).get()) as Page<
      Record<string, unknown>
    >;
    assert.equal(sel['@odata.context'], `${sim.graphRootUrl}/$metadata#users(id,accountEnabled,department)`);
    assert.deepEqual(Object.keys(sel.value[0]).sort(), ['accountEnabled', 'department', 'id']);
  });

  it('defaults to 100 per page and rejects $top outside 1..999 with 400', async () => {
    const page = (await client.api('/users').get()) as Page<unknown>;
    assert.equal(page.value.length, 100);
    await assert.rejects(
      client.api('/users').top(1000).get(),
      (e: GraphError) => e.statusCode === 400 && e.code === 'Request_UnsupportedQuery',
    );
    await assert.rejects(
      client.api('/users').query({ $skip: '5' }).get(),
      (e: GraphError) => e.statusCode === 400 && e.code === 'Request_BadRequest',
    );
  });

  it('gets by id and answers 404 Request_ResourceNotFound for an unknown id', async () => {
    const page = (await client.api('/groups').top(1).get()) as Page<MG.Group>;
    const g = (await client.api(`/groups/${page.value[0].id}`).get()) as MG.Group & { '@odata.context': string };
    assert.equal(g.id, page.value[0].id);
    assert.equal(g['@odata.context'], `${sim.graphRootUrl}/$metadata#groups/$entity`);
    await assert.rejects(client.api('/users/00000000-0000-4000-8000-000000000000').get(), (e: GraphError) => {
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, 'Request_ResourceNotFound');
      return true;
    });
  });

  it('lists group members as directoryObjects with @odata.type and pages large groups', async () => {
    const groups = (await client.api('/groups').filter("displayName eq 'All Users'").get()) as Page<MG.Group>;
    assert.equal(groups.value.length, 1);
    const first = (await client.api(`/groups/${groups.value[0].id}/members`).top(999).get()) as Page<
      Record<string, unknown>
    >;
    assert.equal(first['@odata.context'], `${sim.graphRootUrl}/$metadata#directoryObjects`);
    assert.equal(first.value[0]['@odata.type'], '#microsoft.graph.user');
    const all = await collectAll(client, first);
    assert.equal(all.length, 2500);
  });

  it('serves the policy, role and directory resources', async () => {
    for (const p of [
      '/identity/conditionalAccess/policies',
      '/identity/conditionalAccess/namedLocations',
      '/directoryRoles',
      '/roleManagement/directory/roleDefinitions',
      '/roleManagement/directory/roleAssignments',
      '/directory/administrativeUnits',
      '/oauth2PermissionGrants',
      '/servicePrincipals',
      '/applications',
      '/domains',
      '/organization',
      '/devices',
      '/policies/crossTenantAccessPolicy/partners',
    ]) {
      const r = (await client.api(p).get()) as Page<unknown>;
      assert.ok(r.value.length > 0, `${p} has items`);
    }
    for (const p of [
      '/policies/authorizationPolicy',
      '/policies/authenticationMethodsPolicy',
      '/policies/crossTenantAccessPolicy/default',
    ]) {
      const r = (await client.api(p).get()) as { id: string };
      assert.ok(r.id, p);
    }
    const ca = (await client.api('/identity/conditionalAccess/policies').get()) as Page<MG.ConditionalAccessPolicy>;
    const refs = ca.value.flatMap((p) => [
      ...(p.conditions?.users?.includeGroups ?? []),
      ...(p.conditions?.locations?.includeLocations ?? []),
    ]);
    assert.ok(refs.length > 0, 'CA policies reference groups and locations');
    const loc = (await client.api('/identity/conditionalAccess/namedLocations').get()) as Page<Record<string, unknown>>;
    assert.ok(loc.value.every((l) => String(l['@odata.type']).startsWith('#microsoft.graph.')));
    const sps = (await client.api('/servicePrincipals').top(999).get()) as Page<MG.ServicePrincipal>;
    const sp = sps.value.find((s) => s.appOwnerOrganizationId === tenantId) as MG.ServicePrincipal;
    const assigned = (await client
      .api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`)
      .get()) as Page<MG.AppRoleAssignment>;
    assert.ok(assigned.value.length > 0);
  });

  it('enforces application permissions with 403 Authorization_RequestDenied', async () => {
    const narrow = sim.control.registerApp({ displayName: 'Users only', requiredRoles: ['User.Read.All'] });
    sim.control.grantConsent(tenantId, narrow.clientId);
    const t = await token(sim, tenantId, { clientId: narrow.clientId, secret: narrow.secret as string });
    assert.equal((await graphFetch(sim, t, '/users?$top=1')).status, 200);
    for (const p of [
      '/groups',
      '/applications',
      '/identity/conditionalAccess/policies',
      '/policies/authorizationPolicy',
      '/devices',
    ]) {
      const r = await graphFetch(sim, t, p);
      assert.equal(r.status, 403, p);
      const body = (await r.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
      assert.equal(body.error.code, 'Authorization_RequestDenied');
      assert.ok(body.error.innerError['request-id']);
    }
    const bt = await token(sim, tenantId, backup);
    const write = await graphFetch(sim, bt, '/groups', {
      method: 'POST',
      body: JSON.stringify({ displayName: 'x', mailEnabled: false, mailNickname: 'x', securityEnabled: true }),
    });
    assert.equal(write.status, 403, 'read-only backup app cannot write');
  });
});
