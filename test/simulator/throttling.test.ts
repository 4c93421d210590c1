import assert from 'node:assert/strict';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphClient, graphFetch, startWithApps, token } from './helpers';

describe('simulator: throttling', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => {
    ({ sim, backup } = await startWithApps());
    tenantId = sim.control.createTenant({ users: 30, consentTo: [backup.clientId] }).id;
    client = graphClient(sim, tenantId, backup);
  });
  after(() => sim.close());
  beforeEach(() => sim.control.resetThrottling());

  it('charges resource units with the $select/$top modifiers in x-ms-resource-unit', async () => {
    const t = await token(sim, tenantId, backup);
    const ru = async (p: string) => Number((await graphFetch(sim, t, p)).headers.get('x-ms-resource-unit'));
    assert.equal(await ru('/users'), 2);
    assert.equal(await ru('/users?$select=id'), 1);
    assert.equal(await ru('/users?$top=5&$select=id'), 1, 'never below 1');
    assert.equal(await ru('/groups'), 1);
    const g = sim.control.listObjects(tenantId, 'group', { limit: 1 })[0];
    assert.equal(await ru(`/groups/${g.id}/members`), 3);
    assert.equal(await ru('/applications'), 2);
    const usage = sim.control.usage({ tenantId }).counters[0];
    assert.equal(usage.resourceUnits, 2 + 1 + 1 + 1 + 3 + 2);
    assert.equal(usage.requests, 6);
  });

  it('answers 429 with Retry-After and x-ms-throttle-* headers, and records early retries', async () => {
    sim.control.setThrottling({ windowMs: 1500, limits: { S: 5, M: 5, L: 5 } }, tenantId);
    try {
      const t = await token(sim, tenantId, backup);
      const statuses: number[] = [];
      let throttled: Response | undefined;
      for (let i = 0; i < 4; i++) {
        const r = await graphFetch(sim, t, '/users');
        statuses.push(r.status);
        if (r.status === 429) throttled = r;
      }
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      const h = (throttled as Response).headers;
      const retryAfter = Number(h.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 1.5);
      assert.equal(h.get('x-ms-throttle-scope'), `Tenant_Application/Read/${backup.clientId}/${tenantId}`);
      assert.equal(h.get('x-ms-throttle-information'), 'ResourceUnitLimitExceeded');
      const body = (await (throttled as Response).json()) as { error: { code: string } };
      assert.equal(body.error.code, 'TooManyRequests');
      const usage = sim.control.usage({ tenantId, appId: backup.clientId });
      assert.equal(usage.counters[0].throttled, 2);
      assert.equal(usage.earlyRetries.length, 1, 'the 4th request came before the Retry-After of the 3rd');
      assert.ok(usage.earlyRetries[0].earlyByMs > 0);
      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
      assert.equal((await graphFetch(sim, t, '/users')).status, 200);
      assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 1, 'a retry after the wait is not early');
    } finally {
      sim.control.setThrottling({ windowMs: 10_000, limits: { S: 3500, M: 5000, L: 8000 } }, tenantId);
    }
  });

  it('graph-client RetryHandler honours Retry-After and completes without early retries', async () => {
    sim.control.setThrottling({ windowMs: 700, limits: { S: 4, M: 4, L: 4 } }, tenantId);
    try {
      for (let i = 0; i < 4; i++) await client.api('/users').get();
      const usage = sim.control.usage({ tenantId, appId: backup.clientId });
      assert.ok(usage.counters[0].throttled >= 1, 'was throttled');
      assert.equal(usage.earlyRetries.length, 0);
      const log = sim.control.requestLog({ tenantId, kind: 'graph' });
      assert.ok(log.some((e) => e.status === 429));
      // With retries off, the 429 surfaces to the caller as a GraphError.
      const noRetry = graphClient(sim, tenantId, backup);
      const once = () =>
        noRetry
          .api('/users')
          .middlewareOptions([new RetryHandlerOptions(0, 0)])
          .get();
      await assert.rejects(
        async () => {
          for (let i = 0; i < 4; i++) await once();
        },
        (e: GraphError) => e.statusCode === 429,
      );
    } finally {
      sim.control.setThrottling({ windowMs: 10_000, limits: { S: 3500, M: 5000, L: 8000 } }, tenantId);
    }
  });

  it('applies the write limit per app+tenant', async () => {
    const { restore } = {
      restore: sim.control.registerApp({ displayName: 'W', requiredRoles: ['Group.ReadWrite.All'] }),
    };
    sim.control.grantConsent(tenantId, restore.clientId);
    sim.control.setThrottling({ writeLimit: 2, writeWindowMs: 60_000 }, tenantId);
    try {
      const t = await token(sim, tenantId, { clientId: restore.clientId, secret: restore.secret as string });
      const g = sim.control.listObjects(tenantId, 'group', { limit: 1 })[0];
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (
            await graphFetch(sim, t, `/groups/${g.id}`, {
              method: 'PATCH',
              body: JSON.stringify({ description: `d${i}` }),
            })
          ).status,
        );
      assert.deepEqual(statuses, [204, 204, 429]);
    } finally {
      sim.control.setThrottling({ writeLimit: 3000, writeWindowMs: 150_000 }, tenantId);
    }
  });
});
