import assert from 'node:assert/strict';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphFetch, startTenant, token } from './helpers';

describe('simulator: faults', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 20, app: 'backup' })));
  after(() => sim.close());
  afterEach(() => {
    sim.control.clearFaults();
    sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
  });

  it('injects a 503 with Retry-After that graph-client retries, and a 500 it does not', async () => {
    sim.control.setFaults([
      { kind: 'status', status: 503, retryAfterSeconds: 0.1, afterRequests: 0, times: 1, tenantId },
    ]);
    const r = (await client.api('/groups').get()) as { value: unknown[] };
    assert.ok(r.value.length > 0);
    assert.equal(sim.control.faultStatus()[0].fired, 1);
    const log = sim.control.requestLog({ tenantId, kind: 'graph' }).slice(-2);
    assert.deepEqual(
      log.map((e) => e.status),
      [503, 200],
    );
    sim.control.setFaults([{ kind: 'status', status: 500, afterRequests: 0, times: 1 }]);
    await assert.rejects(
      client.api('/groups').get(),
      (e: GraphError) => e.statusCode === 500 && e.code === 'InternalServerError',
    );
  });

  it('resets the connection', async () => {
    const t = await token(sim, tenantId, backup);
    sim.control.setFaults([{ kind: 'reset', afterRequests: 0, times: 1 }]);
    await assert.rejects(graphFetch(sim, t, '/users'));
    assert.equal((await graphFetch(sim, t, '/users')).status, 200);
  });

  it('expires tokens mid-run (401 until a new token is acquired)', async () => {
    const t = await token(sim, tenantId, backup);
    sim.control.setFaults([{ kind: 'tokenExpiry', afterRequests: 1 }]);
    assert.equal((await graphFetch(sim, t, '/users')).status, 200);
    const r = await graphFetch(sim, t, '/users');
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
    assert.equal((await graphFetch(sim, t, '/users')).status, 401, 'the old token stays invalid');
    assert.equal((await graphFetch(sim, await token(sim, tenantId, backup), '/users')).status, 200);
  });

  it('revokes consent mid-run after N requests', async () => {
    const tid = sim.control.createTenant({ users: 5, consentTo: [backup.clientId] }).id;
    const t = await token(sim, tid, backup);
    sim.control.setFaults([{ kind: 'revokeConsent', afterRequests: 2, tenantId: tid, revokeMode: 'servicePrincipal' }]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await graphFetch(sim, t, '/users')).status);
    assert.deepEqual(statuses, [200, 200, 403, 403]);
    await assert.rejects(token(sim, tid, backup), (e: Record<string, unknown>) => String(e.errorNo) === '7000229');
  });

  it('is deterministic by seed for probabilistic faults', async () => {
    const t = await token(sim, tenantId, backup);
    const run = async () => {
      sim.control.setFaults([{ kind: 'status', status: 504, probability: 0.4 }], 1234);
      const s: number[] = [];
      for (let i = 0; i < 15; i++) s.push((await graphFetch(sim, t, '/organization')).status);
      return s;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.ok(a.includes(504) && a.includes(200));
  });

  it('adds the configured latency', async () => {
    const t = await token(sim, tenantId, backup);
    sim.control.setLatency({ baseMs: 150, jitterMs: 0 });
    const start = Date.now();
    await graphFetch(sim, t, '/organization');
    assert.ok(Date.now() - start >= 140);
  });
});
