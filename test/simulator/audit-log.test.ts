import assert from 'node:assert/strict';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { SimTenant } from './helpers';
import { graphClient, startTenant } from './helpers';

interface AuditRecord {
  id: string;
  activityDisplayName: string;
  activityDateTime: string;
  category: string;
  initiatedBy: { user: unknown; app: { appId: string } | null };
  targetResources: {
    id: string;
    type: string;
    modifiedProperties: { displayName: string; newValue: string | null }[];
  }[];
}

describe('simulator: directory audit log', function () {
  let t: SimTenant;

  before(async () => (t = await startTenant({ users: 40, app: 'backup' })));
  after(() => t.sim.close());

  const list = async (filter: string, client = t.client) =>
    ((await client.api('/auditLogs/directoryAudits').filter(filter).top(999).get()) as { value: AuditRecord[] }).value;

  it("records owner and app-role changes with Graph's activity names and targets, filtered by time", async () => {
    const c = t.sim.control;
    const since = c.info().now;
    const app = c.listObjects(t.tenantId, 'application')[0];
    const user = c
      .listObjects(t.tenantId, 'user')
      .reverse()
      .find((u) => c.addOwner(t.tenantId, app.id, u.id).added)!;
    const sps = c.listObjects(t.tenantId, 'servicePrincipal');
    const client = sps.find((sp) => sp.data.appId === app.data.appId)!;
    const resource = sps.find((sp) => ((sp.data.appRoles as unknown[] | undefined) ?? []).length > 0)!;
    const granted = new Set(
      c
        .listObjects(t.tenantId, 'appRoleAssignment', { limit: 100_000 })
        .filter((a) => a.data.principalId === client.id)
        .map((a) => a.data.appRoleId),
    );
    const role = (resource.data.appRoles as { id: string }[]).find((r) => !granted.has(r.id))!;
    c.assignAppRole(t.tenantId, { principalId: client.id, resourceId: resource.id, appRoleId: role.id });

    const records = await list(`activityDateTime ge ${since}`);
    const owner = records.find((r) => r.activityDisplayName === 'Add owner to application')!;
    assert.equal(owner.category, 'ApplicationManagement');
    assert.deepEqual(
      owner.targetResources.map((x) => [x.id, x.type]),
      [
        [user.id, 'User'],
        [app.id, 'Application'],
      ],
    );
    const objectId = owner.targetResources[0].modifiedProperties.find((p) => p.displayName === 'Application.ObjectID');
    assert.equal(JSON.parse(objectId!.newValue!), app.id);
    assert.ok(owner.initiatedBy.user, 'a control-API change is an administrator’s');
    const grant = records.find((r) => r.activityDisplayName === 'Add app role assignment to service principal')!;
    assert.equal(grant.targetResources[0].id, resource.id);
    const principal = grant.targetResources[0].modifiedProperties.find(
      (p) => p.displayName === 'ServicePrincipal.ObjectID',
    );
    assert.equal(JSON.parse(principal!.newValue!), client.id);
    const future = new Date(Date.parse(c.info().now) + 3_600_000).toISOString();
    assert.deepEqual(await list(`activityDateTime ge ${future}`), [], 'nothing after the window');
    assert.ok(
      (await list(`startswith(activityDisplayName,'Add owner')`)).every((r) =>
        r.activityDisplayName.startsWith('Add owner'),
      ),
    );
  });

  it('records members and owners bound on create, and restores from the recycle bin, as Graph writes', async () => {
    const c = t.sim.control;
    c.grantConsent(t.tenantId, t.restore.clientId);
    const writer = graphClient(t.sim, t.tenantId, t.restore);
    const since = c.info().now;
    const [member, owner] = c.listObjects(t.tenantId, 'user').slice(-2);
    const ref = (id: string) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
    const group = (await writer.api('/groups').post({
      displayName: 'Audited bind',
      mailEnabled: false,
      mailNickname: 'audited-bind',
      securityEnabled: true,
      'members@odata.bind': [ref(member.id)],
      'owners@odata.bind': [ref(owner.id)],
    })) as { id: string };
    await writer.api(`/groups/${group.id}`).delete();
    await writer.api(`/directory/deletedItems/${group.id}/restore`).post({});

    const records = await list(`activityDateTime ge ${since}`);
    const about = (activity: string) => records.filter((r) => r.activityDisplayName === activity);
    assert.deepEqual(
      about('Add member to group').map((r) => r.targetResources.map((x) => x.id)),
      [[member.id, group.id]],
    );
    assert.deepEqual(
      about('Add owner to group').map((r) => r.targetResources.map((x) => x.id)),
      [[owner.id, group.id]],
    );
    assert.deepEqual(
      about('Restore group').map((r) => r.targetResources[0].id),
      [group.id],
    );
    assert.equal(about('Restore group')[0].initiatedBy.app?.appId, t.restore.clientId, 'the app that wrote it');
  });

  it('forgets records older than the retention and refuses an app without AuditLog.Read.All', async () => {
    const c = t.sim.control;
    assert.ok((await list('activityDateTime ge 2000-01-01T00:00:00Z')).length > 0);
    c.advanceClock(8 * 86_400_000);
    c.setAuditRetention(t.tenantId, 7);
    // A new client: the old one's token expired with the clock.
    const later = graphClient(t.sim, t.tenantId, t.backup);
    assert.deepEqual(await list('activityDateTime ge 2000-01-01T00:00:00Z', later), []);
    c.setAuditRetention(t.tenantId, 30);

    // The Restore app holds write permissions but not AuditLog.Read.All.
    c.grantConsent(t.tenantId, t.restore.clientId);
    await assert.rejects(
      graphClient(t.sim, t.tenantId, t.restore).api('/auditLogs/directoryAudits').get(),
      (e: GraphError) => e.statusCode === 403 && e.code === 'Authorization_RequestDenied',
    );
  });
});
