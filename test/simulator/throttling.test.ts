import assert from 'node:assert/strict';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphClient, graphFetch, startTenant, token } from './helpers';

describe('simulator: throttling', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 30, app: 'backup' })));
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

  it('does not count a request already in flight when another got its 429, but does count a re-sent one', async () => {
    sim.control.setThrottling({ windowMs: 2000, limits: { S: 4, M: 4, L: 4 } }, tenantId);
    try {
      const t = await token(sim, tenantId, backup);
      assert.equal((await graphFetch(sim, t, '/users')).status, 200);
      assert.equal((await graphFetch(sim, t, '/users')).status, 200);
      assert.equal((await graphFetch(sim, t, '/groups')).status, 429);
      // Another request right after the 429 (within the in-flight grace): sent before the client could know.
      assert.equal((await graphFetch(sim, t, '/devices')).status, 429);
      assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 0);
      // The throttled request sent again at once is an early retry, however soon it comes.
      assert.equal((await graphFetch(sim, t, '/devices')).status, 429);
      assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 1);
      // Any request well after the 429 but before its Retry-After is early too.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await graphFetch(sim, t, '/domains')).status, 429);
      assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 2);
    } finally {
      sim.control.setThrottling({ windowMs: 10_000, limits: { S: 3500, M: 5000, L: 8000 } }, tenantId);
    }
  });

  it('limits the reports service to 5 requests per window per app+tenant, apart from the directory budget', async () => {
    sim.control.setThrottling({ reportsWindowMs: 1500 }, tenantId);
    const t = await token(sim, tenantId, backup);
    const audits = '/auditLogs/directoryAudits?$top=1';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await graphFetch(sim, t, audits)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const throttled = await graphFetch(sim, t, '/auditLogs/directoryAudits?$top=2');
    assert.equal(throttled.status, 429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 1.5, String(retryAfter));
    assert.equal(throttled.headers.get('x-ms-throttle-information'), 'ReportsLimitExceeded');
    // The directory's own budget is untouched, and a directory read meanwhile is not an early retry.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await graphFetch(sim, t, '/users?$select=id')).status, 200);
    assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 0);
    // Another reports request before the Retry-After is.
    assert.equal((await graphFetch(sim, t, audits)).status, 429);
    assert.equal(sim.control.usage({ tenantId }).earlyRetries.length, 1);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
    assert.equal((await graphFetch(sim, t, audits)).status, 200);
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

describe('simulator: application, tenant and global quotas', function () {
  let sim: Simulator;
  let restore: TestApp;
  let other: TestApp;
  let tenantA: string;
  let tenantB: string;

  before(async () => {
    ({ sim, restore, tenantId: tenantA } = await startTenant({ users: 30, app: 'restore' }));
    tenantB = sim.control.createTenant({ users: 30, consentTo: [restore.clientId] }).id;
    const o = sim.control.registerApp({ displayName: 'Other writer', requiredRoles: ['Group.ReadWrite.All'] });
    other = { clientId: o.clientId, secret: o.secret as string };
    sim.control.grantConsent(tenantA, other.clientId);
  });
  after(() => sim.close());
  beforeEach(() => sim.control.resetThrottling());

  async function patchGroup(tenantId: string, app: TestApp): Promise<Response> {
    const g = sim.control.listObjects(tenantId, 'group', { limit: 1 })[0];
    return graphFetch(sim, await token(sim, tenantId, app), `/groups/${g.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ description: `at ${Date.now()}` }),
    });
  }

  function assertThrottled(r: Response, scope: string, information: string, maxRetryAfter: number): void {
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('x-ms-throttle-scope'), scope);
    assert.equal(r.headers.get('x-ms-throttle-information'), information);
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= maxRetryAfter, `Retry-After ${retryAfter}`);
  }

  it('per-tenant write quota across all applications: Tenant/Write scope', async () => {
    sim.control.setThrottling({ tenantWriteLimit: 3, tenantWriteWindowMs: 60_000 }, tenantA);
    try {
      const statuses = [];
      for (const app of [restore, restore, other]) statuses.push((await patchGroup(tenantA, app)).status);
      assert.deepEqual(statuses, [204, 204, 204]);
      const r = await patchGroup(tenantA, other);
      assertThrottled(r, `Tenant/Write/${other.clientId}/${tenantA}`, 'WriteLimitExceeded', 60);
      assert.equal((await patchGroup(tenantB, restore)).status, 204, 'another tenant is not affected');
    } finally {
      sim.control.setThrottling({ tenantWriteLimit: 18_000, tenantWriteWindowMs: 300_000 }, tenantA);
    }
  });

  it('per-application write quota across all tenants: Application/Write scope', async () => {
    sim.control.setThrottling({ appWriteLimit: 3, appWriteWindowMs: 60_000 });
    try {
      const statuses = [];
      for (const t of [tenantA, tenantB, tenantA]) statuses.push((await patchGroup(t, restore)).status);
      assert.deepEqual(statuses, [204, 204, 204]);
      assertThrottled(
        await patchGroup(tenantB, restore),
        `Application/Write/${restore.clientId}/${tenantB}`,
        'WriteLimitExceeded',
        60,
      );
      assert.equal((await patchGroup(tenantA, other)).status, 204, 'another application is not affected');
    } finally {
      sim.control.setThrottling({ appWriteLimit: 35_000, appWriteWindowMs: 300_000 });
    }
  });

  it('per-application resource-unit quota across all tenants: Application/Read scope', async () => {
    sim.control.setThrottling({ appResourceUnitLimit: 3, appResourceUnitWindowMs: 60_000 });
    try {
      const ta = await token(sim, tenantA, restore);
      const tb = await token(sim, tenantB, restore);
      const statuses = [];
      for (const t of [ta, tb, ta]) statuses.push((await graphFetch(sim, t, '/groups?$top=1')).status);
      assert.deepEqual(statuses, [200, 200, 200]);
      assertThrottled(
        await graphFetch(sim, tb, '/groups?$top=1'),
        `Application/Read/${restore.clientId}/${tenantB}`,
        'ResourceUnitLimitExceeded',
        60,
      );
    } finally {
      sim.control.setThrottling({ appResourceUnitLimit: 150_000, appResourceUnitWindowMs: 20_000 });
    }
  });

  it('global request limit per application across all tenants, then recovery after Retry-After', async () => {
    sim.control.setThrottling({ globalRequestLimit: 3, globalWindowMs: 800 });
    try {
      const ta = await token(sim, tenantA, restore);
      const tb = await token(sim, tenantB, restore);
      const statuses = [];
      for (const t of [ta, tb, ta]) statuses.push((await graphFetch(sim, t, '/groups?$top=1')).status);
      assert.deepEqual(statuses, [200, 200, 200]);
      const r = await graphFetch(sim, tb, '/organization');
      assertThrottled(r, `Application/ReadWrite/${restore.clientId}/${tenantB}`, 'RequestLimitExceeded', 0.8);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'TooManyRequests');
      await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after')) * 1000 + 50));
      assert.equal((await graphFetch(sim, tb, '/organization')).status, 200);
      assert.equal(sim.control.usage({ tenantId: tenantB }).earlyRetries.length, 0);
    } finally {
      sim.control.setThrottling({ globalRequestLimit: 130_000, globalWindowMs: 10_000 });
    }
  });
});
