import assert from 'node:assert/strict';
import { startSimulator, Simulator, BACKUP_APP_ROLES } from '../../simulator';
import { SimulatorControlClient } from '../../simulator/control-client';
import { generateTenant } from '../../simulator/seed/generate-tenant';
import { GRAPH_SCOPE, REDIRECT, graphFetch, token } from './helpers';

describe('simulator: control API, control client and tenant generator', function () {
  let sim: Simulator;
  let ctl: SimulatorControlClient;

  before(async () => {
    sim = await startSimulator({ port: 0 });
    ctl = new SimulatorControlClient(sim.baseUrl);
  });
  after(() => sim.close());

  it('drives tenants, apps, consent, objects and logs over HTTP', async () => {
    const app = await ctl.registerApp({
      displayName: 'HTTP app',
      requiredRoles: BACKUP_APP_ROLES,
      redirectUris: [REDIRECT],
    });
    assert.ok(app.secret);
    const tenant = await ctl.createTenant({ users: 60, seed: 5, consentMode: 'accept' });
    assert.equal(tenant.size, 'M');
    assert.equal(tenant.counts.user, 60);
    const consent = await fetch(
      `${sim.baseUrl}/${tenant.id}/v2.0/adminconsent?client_id=${app.clientId}&scope=${encodeURIComponent(GRAPH_SCOPE)}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      { redirect: 'manual' },
    );
    assert.equal(consent.status, 302);
    const creds = { clientId: app.clientId, secret: app.secret as string };
    const t = await token(sim, tenant.id, creds);
    const u = await ctl.createObject(tenant.id, 'user', {
      displayName: 'Via control',
      userPrincipalName: 'vc@x.example',
    });
    assert.equal((await graphFetch(sim, t, `/users/${u.id}`)).status, 200);
    await ctl.deleteObject(tenant.id, u.id);
    assert.equal((await ctl.getObject(tenant.id, u.id)).deleted, true);
    await ctl.restoreObject(tenant.id, u.id);
    const log = await ctl.requestLog({ tenantId: tenant.id, kind: 'graph' });
    assert.ok(log.length >= 1 && log.every((e) => e.appId === app.clientId));
    const usage = await ctl.usage({ tenantId: tenant.id });
    assert.ok(usage.counters[0].resourceUnits >= 1);
    await ctl.revokeConsent(tenant.id, app.clientId);
    assert.equal((await graphFetch(sim, t, '/users')).status, 403);
    await ctl.setFaults([{ kind: 'status', status: 502, afterRequests: 0 }]);
    assert.equal((await ctl.faultStatus()).length, 1);
    await ctl.clearFaults();
    await assert.rejects(ctl.getTenant('00000000-0000-4000-8000-00000000dead'), /404/);
  });

  it('generates the same tenant for the same seed, and a different one for another seed', () => {
    const ids = (seed: number) =>
      generateTenant({ seed, users: 200, now: 0 })
        .list('user')
        .slice(0, 5)
        .map((u) => `${u.id}:${String(u.data.displayName)}`);
    assert.deepEqual(ids(11), ids(11));
    assert.notDeepEqual(ids(11), ids(12));
  });

  it('generates 20,000 users with groups, apps and CA policies quickly', () => {
    const start = Date.now();
    const t = generateTenant({ seed: 3, users: 20_000 });
    assert.ok(Date.now() - start < 6000);
    const c = t.counts();
    assert.equal(c.user, 20_000);
    assert.ok(c.group > 100 && c.application >= 100 && c.conditionalAccessPolicy >= 5 && c.device >= 5000);
    const nested = t.list('group').find((g) => g.data.displayName === 'Everyone (nested)');
    assert.ok([...(t.members.get(nested?.id as string) ?? [])].every((m) => t.get(m)?.kind === 'group'));
  });
});
