import assert from 'node:assert/strict';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type * as MG from '@microsoft/microsoft-graph-types';
import { Simulator } from '../../simulator';
import { startTenant } from './helpers';

describe('simulator: writes and the recycle bin', function () {
  let sim: Simulator;
  let client: Client;

  before(async () => ({ sim, client } = await startTenant({ users: 40, app: 'restore' })));
  after(() => sim.close());

  const newUser = (n: string) => ({
    accountEnabled: true,
    displayName: `User ${n}`,
    mailNickname: `user${n}`,
    userPrincipalName: `user${n}@contoso.example`,
    passwordProfile: { password: 'P@ssw0rd!123', forceChangePasswordNextSignIn: true },
  });

  it('creates (201), updates (204) and rejects read-only properties and duplicates', async () => {
    const u = (await client.api('/users').post(newUser('a'))) as MG.User & { '@odata.context': string };
    assert.match(u.id as string, /^[0-9a-f-]{36}$/);
    assert.equal(u['@odata.context'], `${sim.graphRootUrl}/$metadata#users/$entity`);
    assert.equal((u as unknown as Record<string, unknown>).passwordProfile, undefined);
    await client.api(`/users/${u.id}`).patch({ jobTitle: 'Tester' });
    const got = (await client.api(`/users/${u.id}`).select(['jobTitle', 'displayName']).get()) as MG.User;
    assert.equal(got.jobTitle, 'Tester');
    assert.equal(got.displayName, 'User a', 'unspecified properties keep their values');
    await assert.rejects(
      client.api(`/users/${u.id}`).patch({ createdDateTime: '2020-01-01T00:00:00Z' }),
      (e: GraphError) => e.statusCode === 400,
    );
    await assert.rejects(
      client.api('/users').post(newUser('a')),
      (e: GraphError) => e.statusCode === 400 && /userPrincipalName/.test(e.message),
    );
    await assert.rejects(
      client.api('/users').post({ displayName: 'incomplete' }),
      (e: GraphError) => e.statusCode === 400,
    );
  });

  it('adds and removes members through members/$ref', async () => {
    const g = (await client
      .api('/groups')
      .post({ displayName: 'G', mailEnabled: false, mailNickname: 'g', securityEnabled: true })) as MG.Group;
    const u = (await client.api('/users').post(newUser('m'))) as MG.User;
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` };
    await client.api(`/groups/${g.id}/members/$ref`).post(ref);
    await assert.rejects(
      client.api(`/groups/${g.id}/members/$ref`).post(ref),
      (e: GraphError) => e.statusCode === 400 && /already exist/.test(e.message),
    );
    await assert.rejects(
      client.api(`/groups/${g.id}/members/$ref`).post({
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-000000000001`,
      }),
      (e: GraphError) => e.statusCode === 404,
    );
    const members = (await client.api(`/groups/${g.id}/members`).get()) as { value: { id: string }[] };
    assert.deepEqual(
      members.value.map((m) => m.id),
      [u.id],
    );
    await client.api(`/groups/${g.id}/members/${u.id}/$ref`).delete();
    assert.equal(((await client.api(`/groups/${g.id}/members`).get()) as { value: unknown[] }).value.length, 0);
  });

  it('soft-deletes users to deletedItems, restores them and deletes them permanently', async () => {
    const u = (await client.api('/users').post(newUser('d'))) as MG.User;
    await client.api(`/users/${u.id}`).delete();
    await assert.rejects(client.api(`/users/${u.id}`).get(), (e: GraphError) => e.statusCode === 404);
    const deleted = (await client.api('/directory/deletedItems/microsoft.graph.user').get()) as {
      '@odata.context': string;
      value: MG.User[];
    };
    assert.equal(deleted['@odata.context'], `${sim.graphRootUrl}/$metadata#users`);
    const item = deleted.value.find((x) => x.id === u.id) as MG.User & { deletedDateTime: string };
    assert.match(item.deletedDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await assert.rejects(
      client.api('/directory/deletedItems').get(),
      (e: GraphError) => e.statusCode === 400 && e.code === 'Request_UnsupportedQuery',
    );
    const restored = (await client.api(`/directory/deletedItems/${u.id}/restore`).post({})) as Record<string, unknown>;
    assert.equal(restored['@odata.type'], '#microsoft.graph.user');
    assert.equal(restored['@odata.context'], `${sim.graphRootUrl}/$metadata#directoryObjects/$entity`);
    await client.api(`/users/${u.id}`).get();
    await client.api(`/users/${u.id}`).delete();
    await client.api(`/directory/deletedItems/${u.id}`).delete();
    await assert.rejects(
      client.api(`/directory/deletedItems/${u.id}/restore`).post({}),
      (e: GraphError) => e.statusCode === 404,
    );
  });

  it('restoring an application does not restore its service principal', async () => {
    const app = (await client.api('/applications').post({ displayName: 'Restorable' })) as MG.Application;
    const sp = (await client.api('/servicePrincipals').post({ appId: app.appId })) as MG.ServicePrincipal;
    await client.api(`/applications/${app.id}`).delete();
    const deletedSps = (await client.api('/directory/deletedItems/microsoft.graph.servicePrincipal').get()) as {
      value: MG.ServicePrincipal[];
    };
    assert.ok(
      deletedSps.value.some((s) => s.id === sp.id),
      'SP went to the recycle bin with its app',
    );
    await client.api(`/directory/deletedItems/${app.id}/restore`).post({});
    await client.api(`/applications/${app.id}`).get();
    await assert.rejects(client.api(`/servicePrincipals/${sp.id}`).get(), (e: GraphError) => e.statusCode === 404);
    await client.api(`/directory/deletedItems/${sp.id}/restore`).post({});
    await client.api(`/servicePrincipals/${sp.id}`).get();
  });

  it('returns secretText once from addPassword and never again', async () => {
    const app = (await client.api('/applications').post({ displayName: 'With secret' })) as MG.Application;
    const cred = (await client
      .api(`/applications/${app.id}/addPassword`)
      .post({ passwordCredential: { displayName: 'backup' } })) as MG.PasswordCredential;
    assert.ok((cred.secretText as string).length >= 16);
    assert.equal(cred.hint, (cred.secretText as string).slice(0, 3));
    const again = (await client.api(`/applications/${app.id}`).get()) as MG.Application;
    assert.equal(again.passwordCredentials?.length, 1);
    assert.equal(again.passwordCredentials?.[0].secretText, null);
    assert.equal(again.passwordCredentials?.[0].hint, cred.hint);
    await assert.rejects(
      client.api(`/applications/${app.id}`).patch({ passwordCredentials: [] }),
      (e: GraphError) => e.statusCode === 400,
    );
  });

  it('updates singleton policies with PATCH (204)', async () => {
    await client.api('/policies/authorizationPolicy').patch({ allowInvitesFrom: 'adminsAndGuestInviters' });
    const p = (await client.api('/policies/authorizationPolicy').get()) as { allowInvitesFrom: string };
    assert.equal(p.allowInvitesFrom, 'adminsAndGuestInviters');
  });

  it('creates, lists, updates and deletes federatedIdentityCredentials of an application', async () => {
    const app = (await client.api('/applications').post({ displayName: 'Workload' })) as MG.Application;
    const base = `/applications/${app.id}/federatedIdentityCredentials`;
    const fic = {
      name: 'gh-main',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:contoso/app:ref:refs/heads/main',
      audiences: ['api://AzureADTokenExchange'],
    };
    const created = (await client.api(base).post(fic)) as MG.FederatedIdentityCredential;
    assert.match(created.id as string, /^[0-9a-f-]{36}$/);
    await assert.rejects(client.api(base).post(fic), (e: GraphError) => e.statusCode === 400);
    await client.api(`${base}/gh-main`).patch({ description: 'CI' });
    const list = (await client.api(base).select(['id', 'name', 'description', 'audiences']).get()) as {
      value: MG.FederatedIdentityCredential[];
    };
    assert.deepEqual(list.value, [
      { id: created.id, name: 'gh-main', description: 'CI', audiences: ['api://AzureADTokenExchange'] },
    ]);
    await client.api(`${base}/${created.id}`).delete();
    assert.deepEqual(((await client.api(base).get()) as { value: unknown[] }).value, []);
  });
  it('creates, lists by principal and deletes directory role assignments as Graph documents them', async () => {
    const base = '/roleManagement/directory/roleAssignments';
    type Assignment = { id: string; principalId: string; roleDefinitionId: string; directoryScopeId: string };
    const definitions = (await client.api('/roleManagement/directory/roleDefinitions').get()) as {
      value: { id: string; templateId: string }[];
    };
    const roleDefinitionId = definitions.value[0].id;
    const u = (await client.api('/users').post(newUser('r'))) as MG.User;
    const au = (await client.api('/directory/administrativeUnits').post({ displayName: 'Role AU' })) as { id: string };
    const ofUser = async () =>
      ((await client.api(base).filter(`principalId eq '${u.id}'`).get()) as { value: Assignment[] }).value;
    const tenantWide = (await client
      .api(base)
      .post({ principalId: u.id, roleDefinitionId, directoryScopeId: '/' })) as Assignment;
    const scoped = { principalId: u.id, roleDefinitionId, directoryScopeId: `/administrativeUnits/${au.id}` };
    await client.api(base).post(scoped);
    assert.deepEqual(
      (await ofUser()).map((a) => a.directoryScopeId).sort(),
      ['/', `/administrativeUnits/${au.id}`],
      '$filter=principalId eq lists the principal’s assignments',
    );
    // The activated directory role shows a tenant-wide assignment among its members.
    const roles = (await client.api('/directoryRoles').get()) as { value: { id: string; roleTemplateId: string }[] };
    const role = roles.value.find((r) => r.roleTemplateId === definitions.value[0].templateId);
    const roleMembers = async () =>
      ((await client.api(`/directoryRoles/${role!.id}/members`).get()) as { value: { id: string }[] }).value.map(
        (m) => m.id,
      );
    if (role) assert.ok((await roleMembers()).includes(u.id as string));
    await assert.rejects(
      client.api(base).post(scoped),
      (e: GraphError) => e.statusCode === 400 && /conflicting object/.test(e.message),
      'the same principal, role and scope twice',
    );
    const plain = (await client
      .api('/groups')
      .post({ displayName: 'Not assignable', mailEnabled: false, mailNickname: 'na', securityEnabled: true })) as {
      id: string;
    };
    await assert.rejects(
      client.api(base).post({ principalId: plain.id, roleDefinitionId, directoryScopeId: '/' }),
      (e: GraphError) => e.statusCode === 400 && /role-assignable/.test(e.message),
      'only groups created with isAssignableToRole take roles',
    );
    const assignable = (await client.api('/groups').post({
      displayName: 'Assignable',
      mailEnabled: false,
      mailNickname: 'ra',
      securityEnabled: true,
      isAssignableToRole: true,
    })) as { id: string };
    await client.api(base).post({ principalId: assignable.id, roleDefinitionId, directoryScopeId: '/' });
    await assert.rejects(
      client.api(base).post({ principalId: u.id, roleDefinitionId }),
      (e: GraphError) => e.statusCode === 400 && /directoryScopeId/.test(e.message),
    );
    await assert.rejects(
      client
        .api(base)
        .post({ principalId: '00000000-0000-4000-8000-00000000000b', roleDefinitionId, directoryScopeId: '/' }),
      (e: GraphError) => e.statusCode === 404,
    );
    await client.api(`${base}/${tenantWide.id}`).delete();
    assert.deepEqual(
      (await ofUser()).map((a) => a.directoryScopeId),
      [`/administrativeUnits/${au.id}`],
    );
    if (role) assert.ok(!(await roleMembers()).includes(u.id as string), 'and leaves the role when removed');
    // A principal deleted for good takes its assignments with it.
    await client.api(`/users/${u.id}`).delete();
    await client.api(`/directory/deletedItems/${u.id}`).delete();
    assert.deepEqual(await ofUser(), []);
  });

  it('addresses applications and service principals by appId (alternate key)', async () => {
    const app = (await client.api('/applications').post({ displayName: 'By appId' })) as MG.Application;
    const sp = (await client.api('/servicePrincipals').post({ appId: app.appId })) as MG.ServicePrincipal;
    const got = (await client.api(`/applications(appId='${app.appId}')`).get()) as MG.Application;
    assert.equal(got.id, app.id);
    const gotSp = (await client.api(`/servicePrincipals(appId='${app.appId}')`).get()) as MG.ServicePrincipal;
    assert.equal(gotSp.id, sp.id);
    await assert.rejects(
      client.api(`/applications(appId='00000000-0000-4000-8000-00000000000a')`).get(),
      (e: GraphError) => e.statusCode === 404,
    );
  });

  it('creates an app-role assignment on its resource once: a duplicate answers 400 "already exists"', async () => {
    const sps = ((await client.api('/servicePrincipals').get()) as { value: MG.ServicePrincipal[] }).value;
    const resource = sps.find((s) => (s.appRoles ?? []).length > 0)!;
    const u = (await client.api('/users').post(newUser('r'))) as MG.User;
    const body = { principalId: u.id, resourceId: resource.id, appRoleId: resource.appRoles![0].id };
    const a = (await client
      .api(`/servicePrincipals/${resource.id}/appRoleAssignedTo`)
      .post(body)) as MG.AppRoleAssignment;
    assert.equal(a.principalId, u.id);
    await assert.rejects(
      client.api(`/servicePrincipals/${resource.id}/appRoleAssignedTo`).post(body),
      (e: GraphError) => e.statusCode === 400 && /already exists on the object/.test(e.message),
    );
    await client.api(`/servicePrincipals/${resource.id}/appRoleAssignedTo/${a.id}`).delete();
    await client.api(`/servicePrincipals/${resource.id}/appRoleAssignedTo`).post(body);
  });

  it('replication delay on demand: a created object answers 404 to the next requests naming it', async () => {
    sim.control.addFault({ kind: 'replicationDelay', method: 'POST', pathPrefix: '/groups', lagRequests: 2, times: 1 });
    try {
      const g = (await client
        .api('/groups')
        .post({ displayName: 'Lagging', mailEnabled: false, mailNickname: 'lag', securityEnabled: true })) as MG.Group;
      for (let i = 0; i < 2; i++) {
        await assert.rejects(
          client.api(`/groups/${g.id}`).get(),
          (e: GraphError) => e.statusCode === 404 && e.code === 'Request_ResourceNotFound',
        );
      }
      assert.equal(((await client.api(`/groups/${g.id}`).get()) as MG.Group).displayName, 'Lagging');
    } finally {
      sim.control.clearFaults();
    }
  });

  it('a property the tenant refuses to keep (fault) is accepted with 204 and reads back unchanged', async () => {
    const u = (await client.api('/users').post(newUser('ignored'))) as MG.User;
    sim.control.addFault({
      kind: 'ignoreProperty',
      method: 'PATCH',
      pathPrefix: `/users/${u.id}`,
      property: 'jobTitle',
    });
    try {
      await client.api(`/users/${u.id}`).patch({ jobTitle: 'Kept?', department: 'Kept' });
      const got = (await client.api(`/users/${u.id}`).select(['jobTitle', 'department']).get()) as MG.User;
      assert.equal(got.jobTitle, null);
      assert.equal(got.department, 'Kept');
    } finally {
      sim.control.clearFaults();
    }
  });
});
