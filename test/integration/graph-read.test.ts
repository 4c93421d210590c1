import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { ApplicationFailure } from '@temporalio/common';
import { startSimulator, type Simulator } from '../../simulator';
import { deltaStartUrl, firstPageUrl, relationshipUrl, requiredReadPermissions } from '../../catalog';
import { loadConfig, type EntraConfig } from '../../temporal.config';
import { TokenProvider } from '../../activities/graph/token-provider';
import { TenantGraph } from '../../activities/graph/tenant-graph';
import { PacerRegistry, type PacerOptions } from '../../activities/graph/pacer';
import { GraphThrottledError, RetryAfterGates } from '../../activities/graph/retry-after';
import { DeltaTokenExpiredError, toActivityFailure } from '../../activities/graph/graph-failure';
import type { ThrottleOptions } from '../../activities/graph/throttled-graph-client';

const BACKUP = {
  clientId: '0f3c1f47-7a57-4e50-9a5c-1c1d3f5b0c01',
  secret: `backup-${randomBytes(12).toString('hex')}`,
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the read to fail');
}

describe('graph read layer against the simulator', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let entra: EntraConfig;
  let tokens: TokenProvider;
  let tenantId: string;
  let root: string;

  before(async () => {
    sim = await startSimulator({ port: 0, seed: 11 });
    sim.control.registerApp({
      clientId: BACKUP.clientId,
      displayName: 'entra-backup Backup app',
      secret: BACKUP.secret,
      redirectUris: ['https://127.0.0.1/consent/callback'],
      requiredRoles: requiredReadPermissions(),
    });
    tenantId = sim.control.createTenant({ users: 2500, seed: 5, consentTo: [BACKUP.clientId] }).id;
    entra = loadConfig({
      ENTRA_AUTHORITY_HOST: sim.authorityHost,
      ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
      ENTRA_BACKUP_APP_CLIENT_ID: BACKUP.clientId,
      ENTRA_BACKUP_APP_CLIENT_SECRET: BACKUP.secret,
    }).entra;
    tokens = new TokenProvider(entra);
    root = sim.graphRootUrl;
  });
  after(() => sim?.close());
  beforeEach(() => {
    sim.control.resetThrottling();
    sim.control.setThrottling({ windowMs: 10_000, limits: { S: 3500, M: 5000, L: 8000 } });
    sim.control.clearFaults();
  });

  /** A TenantGraph with its own pacer and gate registries, so tests do not share learned state. */
  function graph(options: ThrottleOptions = {}, directory = tenantId): TenantGraph {
    return TenantGraph.forApp(entra, tokens, 'backup', directory, {
      pacers: new PacerRegistry(),
      gates: new RetryAfterGates(),
      ...options,
    });
  }

  /** Several TenantGraphs of the same tenant sharing one pacer and gate, as concurrent activities of one worker. */
  function sharedGraphs(n: number, options: ThrottleOptions): TenantGraph[] {
    const shared = { pacers: new PacerRegistry(), gates: new RetryAfterGates() };
    return Array.from({ length: n }, () => graph({ ...options, ...shared }));
  }

  async function userIds(g: TenantGraph, url: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of g.pages<{ id: string }>(url)) for (const u of page.value) ids.add(u.id);
    return ids;
  }

  it('pages through 2,500 users with $top=999 and resumes from a saved nextLink', async () => {
    const g = graph();
    const url = firstPageUrl('users', { baseUrl: root });
    assert.match(url, /\$top=999/);
    const pages = [];
    for await (const page of g.pages<{ id: string }>(url)) pages.push(page);
    assert.deepEqual(
      pages.map((p) => p.value.length),
      [999, 999, 502],
    );
    assert.equal(new Set(pages.flatMap((p) => p.value.map((u) => u.id))).size, 2500);
    assert.ok(pages[0].nextLink?.startsWith(root), 'absolute nextLink');
    assert.equal(pages[2].nextLink, undefined);
    assert.deepEqual(g.stats.requests, 3);
    assert.equal(g.stats.resourceUnits, 3, '$select makes each /users page 1 RU');

    const resumed = graph();
    const rest = await resumed.readAll<{ id: string }>(pages[0].nextLink as string);
    assert.deepEqual(
      rest.map((u) => u.id),
      pages.slice(1).flatMap((p) => p.value.map((u) => u.id)),
    );
  });

  it('completes concurrent reads through a 429 storm with no request before its Retry-After', async () => {
    // 12 RU per second for this tenant; the pacer may not go below 40, as when other workers share the budget.
    sim.control.setThrottling({ windowMs: 1000, limits: { S: 12, M: 12, L: 12 } }, tenantId);
    const pacer: Partial<PacerOptions> = { windowMs: 1000, minBudget: 40 };
    const graphs = sharedGraphs(4, { pacer });
    const url = `${root}/users?$select=id&$top=250`;
    const reads = await Promise.all(graphs.map((g) => userIds(g, url)));
    for (const ids of reads) assert.equal(ids.size, 2500);
    const usage = sim.control.usage({ tenantId, appId: BACKUP.clientId });
    assert.ok(usage.counters[0].throttled >= 2, `storm: ${usage.counters[0].throttled} throttled answers`);
    assert.deepEqual(usage.earlyRetries, []);
    const throttled = graphs.reduce((n, g) => n + g.stats.throttled, 0);
    assert.equal(throttled, usage.counters[0].throttled);
    assert.ok(graphs.some((g) => g.stats.throttleWaitMs > 0));
  });

  it('gives up with GraphThrottledError beyond maxInlineWaitMs; other reads of the tenant wait at the gate', async () => {
    sim.control.setThrottling({ windowMs: 1500, limits: { S: 3, M: 3, L: 3 } }, tenantId);
    const gates = new RetryAfterGates();
    const g = graph({ gates, pacer: { windowMs: 1500 }, retryAfter: { maxInlineWaitMs: 500 } });
    const started = Date.now();
    const err = await rejection(g.readAll(`${root}/users?$select=id&$top=100`));
    assert.ok(err instanceof GraphThrottledError, String(err));
    assert.ok(Date.now() - started < 1000, 'did not wait inline');
    // Graph's Retry-After is the rest of its 1.5 s window: more than the 500 ms we wait inline.
    assert.ok(err.retryAfterMs > 700 && err.retryAfterMs <= 1600, `retryAfterMs ${err.retryAfterMs}`);
    const failure = toActivityFailure(err) as ApplicationFailure;
    assert.equal(failure.type, 'GraphThrottled');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, Math.ceil(err.retryAfterMs));

    // Another read of the tenant in this process (its own pacer, the shared gate) waits out that Retry-After.
    sim.control.setThrottling({ limits: { S: 3500, M: 5000, L: 8000 } }, tenantId);
    const other = graph({ gates });
    assert.equal((await other.readAll(`${root}/users?$select=id&$top=999`)).length, 2500);
    assert.ok(other.stats.throttleWaitMs > 500, `waited ${other.stats.throttleWaitMs} ms`);
    assert.equal(other.stats.throttled, 0);
    assert.deepEqual(sim.control.usage({ tenantId }).earlyRetries, []);
  });

  it('paces a long read near but under the budget', async () => {
    sim.control.setThrottling({ windowMs: 1000, limits: { S: 200, M: 200, L: 200 } }, tenantId);
    const graphs = sharedGraphs(4, { pacer: { windowMs: 1000, initialBudget: 200, minBudget: 20 } });
    const url = `${root}/users?$top=50`; // 2 RU a page, 50 pages a read: 400 RU in all
    const started = Date.now();
    await Promise.all(graphs.map((g) => userIds(g, url)));
    const seconds = (Date.now() - started) / 1000;
    const usage = sim.control.usage({ tenantId, appId: BACKUP.clientId }).counters[0];
    const rate = usage.resourceUnits / seconds;
    assert.equal(usage.resourceUnits, 400);
    assert.ok(usage.throttled <= 1, `${usage.throttled} throttled`);
    assert.ok(rate >= 0.6 * 200 && rate <= 200, `${rate.toFixed(0)} RU/s against 200 RU/s`);
  });

  it('adapts from the default large-tenant budget down to a smaller one', async () => {
    // The pacer starts at 300 RU/s (our stand-in for size L); Graph allows 100.
    sim.control.setThrottling({ windowMs: 1000, limits: { S: 100, M: 100, L: 100 } }, tenantId);
    const graphs = sharedGraphs(2, { pacer: { windowMs: 1000, initialBudget: 300, maxBudget: 300, minBudget: 20 } });
    const started = Date.now();
    await Promise.all(graphs.map((g) => userIds(g, `${root}/users?$top=50`)));
    const seconds = (Date.now() - started) / 1000;
    const usage = sim.control.usage({ tenantId, appId: BACKUP.clientId });
    assert.equal(usage.counters[0].resourceUnits, 200);
    assert.ok(usage.counters[0].throttled <= 3, `${usage.counters[0].throttled} throttled`);
    assert.deepEqual(usage.earlyRetries, []);
    const budget = graphs[0].pacer.state().budget;
    assert.ok(budget >= 70 && budget <= 115, `learned budget ${budget}`);
    assert.ok(200 / seconds >= 60, `${(200 / seconds).toFixed(0)} RU/s against 100 RU/s`);
  });

  it('reports a missing permission as non-retryable PermissionMissing, per url inside $batch too', async () => {
    const other = sim.control.createTenant({ users: 60, seed: 3, consentTo: [BACKUP.clientId] }).id;
    const g = graph({}, other);
    assert.equal((await g.readAll(`${root}/groups?$select=id`)).length > 0, true);
    sim.control.revokeConsent(other, BACKUP.clientId, 'assignments');
    const err = await rejection(g.readAll(`${root}/groups?$select=id`));
    assert.ok(err instanceof GraphError && err.statusCode === 403, String(err));
    const failure = toActivityFailure(err) as ApplicationFailure;
    assert.equal(failure.type, 'PermissionMissing');
    assert.equal(failure.nonRetryable, true);
    const results = await g.batchGet([`${root}/users?$select=id`, `${root}/groups?$select=id`]);
    assert.deepEqual(
      results.map((r) => [r.status, r.error?.code]),
      [
        [403, 'Authorization_RequestDenied'],
        [403, 'Authorization_RequestDenied'],
      ],
    );
  });

  it('retries 5xx answers and reset connections; gives a retryable failure when they persist', async () => {
    sim.control.setFaults([
      { kind: 'status', status: 500, tenantId, pathPrefix: '/users', afterRequests: 1, times: 2 },
      { kind: 'reset', tenantId, pathPrefix: '/groups', afterRequests: 0, times: 1 },
    ]);
    const g = graph({ transient: { baseDelayMs: 20 } });
    assert.equal((await g.readAll(`${root}/users?$select=id&$top=999`)).length, 2500);
    assert.ok((await g.readAll(`${root}/groups?$select=id`)).length > 0);
    assert.equal(g.stats.transientRetries, 3);
    assert.deepEqual(
      sim.control.faultStatus().map((f) => f.fired),
      [2, 1],
    );

    sim.control.setFaults([{ kind: 'status', status: 502, tenantId, pathPrefix: '/devices' }]);
    const err = await rejection(graph({ transient: { baseDelayMs: 5 } }).readAll(`${root}/devices`));
    assert.ok(err instanceof GraphError && err.statusCode === 502);
    assert.ok(!(toActivityFailure(err) instanceof ApplicationFailure), 'a plain Error: Temporal retries it');
  });

  it('retries once with a fresh token after a 401', async () => {
    const g = graph();
    await g.readAll(`${root}/organization`);
    sim.control.expireAccessTokens(tenantId);
    assert.equal((await g.readAll(`${root}/organization`)).length, 1);
    assert.equal(g.stats.tokenRefreshes, 1);
  });

  it('reads 45 relationship urls in 3 $batch requests, reporting a missing object per url', async () => {
    const groups = sim.control.listObjects(tenantId, 'group', { limit: 44 });
    assert.equal(groups.length, 44);
    const missing = relationshipUrl('groups', 'members', '00000000-0000-4000-8000-00000000dead', { baseUrl: root });
    const urls = [...groups.map((gr) => relationshipUrl('groups', 'members', gr.id, { baseUrl: root })), missing];
    const seq = sim.control.requestLog().at(-1)?.seq ?? 0;
    const g = graph();
    const results = await g.batchGet<{ value: { id: string }[] }>(urls);
    assert.equal(results.length, 45);
    assert.equal(g.stats.requests, 3);
    const log = sim.control.requestLog({ tenantId, kind: 'graph', sinceSeq: seq });
    assert.equal(log.filter((e) => e.url === '/$batch').length, 3);
    for (const [i, gr] of groups.entries()) {
      assert.equal(results[i].status, 200);
      const expected = sim.control.listMembers(tenantId, gr.id).length;
      assert.equal(results[i].body?.value.length, Math.min(expected, 999), `members of ${gr.id}`);
    }
    assert.equal(results[44].status, 404);
    assert.equal(results[44].error?.code, 'Request_ResourceNotFound');
    assert.equal(
      g.stats.resourceUnits,
      log.reduce((n, e) => n + (e.resourceUnits ?? 0), 0),
    );
  });

  it('retries inner 429s of a $batch after the shared Retry-After', async () => {
    sim.control.setThrottling({ windowMs: 800, limits: { S: 10, M: 10, L: 10 } }, tenantId);
    const groups = sim.control.listObjects(tenantId, 'group', { limit: 20 });
    const urls = groups.map((gr) => relationshipUrl('groups', 'members', gr.id, { baseUrl: root }));
    const seq = sim.control.requestLog().at(-1)?.seq ?? 0;
    // The pacer may not go below 200 RU (as if other workers shared the budget), so batches overrun Graph's 10.
    const g = graph({ pacer: { windowMs: 800, minBudget: 200 } });
    const results = await g.batchGet(urls);
    assert.deepEqual(
      results.map((r) => r.status),
      urls.map(() => 200),
    );
    assert.ok(g.stats.throttled > 0 && g.stats.requests >= 3, JSON.stringify(g.stats));
    // No throttled request went again before its Retry-After. (Requests queued behind the first 429 inside the same
    // batch reach Graph during that Retry-After too; they are first attempts, which the simulator also counts.)
    const log = sim.control.requestLog({ tenantId, kind: 'graph', sinceSeq: seq }).filter((e) => e.batchRequestId);
    const throttledUrls = new Set<string>();
    for (const e of log) {
      if (e.earlyRetry) assert.ok(!throttledUrls.has(e.url), `${e.url} was retried before its Retry-After`);
      if (e.status === 429) throttledUrls.add(e.url);
    }
    assert.ok(throttledUrls.size > 0);
  });

  it('abandons an attempt Graph does not answer within the request timeout and retries it', async () => {
    sim.control.setLatency({ baseMs: 1000, jitterMs: 0 });
    try {
      const g = graph({ requestTimeoutMs: 150, transient: { maxRetries: 2, baseDelayMs: 10 } });
      const started = Date.now();
      await assert.rejects(g.readAll(`${entra.graphBaseUrl}/users?$top=5`));
      const elapsed = Date.now() - started;
      assert.equal(g.stats.transientRetries, 2, 'each timed-out attempt was retried until the retries ran out');
      assert.ok(elapsed < 1000, `three attempts gave up after ${elapsed} ms, none waited for the 1 s answer`);
    } finally {
      sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
  });

  it('turns 410 on an expired delta link into DeltaTokenExpiredError with the restart Location', async () => {
    const g = graph();
    let deltaLink: string | undefined;
    for await (const page of g.pages(deltaStartUrl('users', { baseUrl: root }))) deltaLink ??= page.deltaLink;
    assert.ok(deltaLink, 'the last page of the round has a delta link');
    sim.control.expireDeltaTokens(tenantId);
    const err = await rejection(g.readAll(deltaLink));
    assert.ok(err instanceof DeltaTokenExpiredError, String(err));
    assert.equal(err.code, 'syncStateNotFound');
    assert.match(err.location ?? '', /\/users\/delta\?\$deltatoken=$/i);
    const failure = toActivityFailure(err) as ApplicationFailure;
    assert.equal(failure.type, 'DeltaTokenExpired');
    assert.equal(failure.nonRetryable, true);
  });
});
