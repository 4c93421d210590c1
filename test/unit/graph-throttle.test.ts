import assert from 'node:assert/strict';
import { GraphError, type Context } from '@microsoft/microsoft-graph-client';
import { ApplicationFailure } from '@temporalio/common';
import {
  estimateBatchResourceUnits,
  estimateResourceUnits,
  readLimitPercentage,
} from '../../activities/graph/resource-units';
import {
  GraphThrottledError,
  RetryAfterGate,
  RetryAfterGates,
  RetryAfterHandler,
  parseRetryAfter,
  throttleScope,
} from '../../activities/graph/retry-after';
import { Pacer, type PacerPriority } from '../../activities/graph/pacer';
import { pacerPriority } from '../../activities/graph/pacing-handler';
import { DeltaTokenExpiredError, TokenAcquisitionError, toActivityFailure } from '../../activities/graph/graph-failure';
import { authFailure } from '../../activities/graph/auth-failure';
import type { GraphStats } from '../../activities/graph/graph-stats';
import { ReportsWindow, isReportsRequest } from '../../activities/graph/reports-limit';

const ROOT = 'https://graph.microsoft.com/v1.0';

function graphError(status: number, code?: string, headers: Record<string, string> = {}): GraphError {
  const e = new GraphError(status, `${code ?? 'error'} message`);
  e.code = code ?? null;
  e.headers = new Headers(headers);
  return e;
}

describe('graph read layer: resource-unit estimates', () => {
  it('uses the base cost table', () => {
    assert.equal(estimateResourceUnits('GET', `${ROOT}/users`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/applications`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/groups`), 1);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/groups/6c1e0c1e-0000-4000-8000-000000000001/members`), 3);
    assert.equal(estimateResourceUnits('GET', `/groups/abc/transitiveMembers`), 5);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/servicePrincipals/abc/appRoleAssignments`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/servicePrincipals/abc/owners`), 1);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/oauth2PermissionGrants`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/domains/contoso.com/domainNameReferences`), 4);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/me/memberOf`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/identity/conditionalAccess/policies`), 1);
    assert.equal(estimateResourceUnits('POST', `${ROOT}/users`), 1);
    assert.equal(estimateResourceUnits('PATCH', `${ROOT}/groups/abc`), 1);
  });

  it('applies the $select, $expand and $top modifiers, never below 1', () => {
    assert.equal(estimateResourceUnits('GET', `${ROOT}/users?$select=id,displayName&$top=999`), 1);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/users?$top=5`), 1);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/users?$top=5&$select=id`), 1);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/groups?$expand=owners`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/groups/abc/members?$select=id&$top=999`), 2);
    assert.equal(estimateResourceUnits('GET', `${ROOT}/groups?$top=19`), 1);
  });

  it('sums the inner requests of a $batch', () => {
    const body = {
      requests: [
        { id: '1', method: 'GET', url: '/groups/a/members?$select=id' },
        { id: '2', method: 'GET', url: '/users' },
        { id: '3', method: 'GET', url: '/groups' },
      ],
    };
    assert.equal(estimateBatchResourceUnits(body), 2 + 2 + 1);
    assert.equal(estimateBatchResourceUnits(JSON.stringify(body)), 5);
    assert.equal(estimateBatchResourceUnits('not json'), 1);
  });

  it('reads x-ms-throttle-limit-percentage only when present', () => {
    assert.equal(
      readLimitPercentage(() => null),
      undefined,
    );
    assert.equal(
      readLimitPercentage(() => '0.9'),
      0.9,
    );
  });
});

describe('graph read layer: Retry-After', () => {
  it('parses fractional seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('10'), 10_000);
    assert.equal(parseRetryAfter('2.128'), 2128);
    assert.equal(parseRetryAfter(' 0.001 '), 1);
    const now = Date.parse('2026-11-27T10:00:00Z');
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Fri, 27 Nov 2026 09:59:00 GMT', now), 0, 'a date in the past: no wait');
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter(''), undefined);
    assert.equal(parseRetryAfter('-3'), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  it('holds every waiter until the latest reopening, never earlier', async () => {
    const gate = new RetryAfterGate();
    const start = Date.now();
    gate.closeUntil(start + 80);
    const passed: number[] = [];
    const waiters = [0, 1, 2].map(() => gate.pass().then(() => passed.push(Date.now())));
    setTimeout(() => gate.closeUntil(start + 150), 20); // another 429 while they wait
    gate.closeUntil(start + 10); // an earlier reopening never shortens the wait
    await Promise.all(waiters);
    assert.equal(passed.length, 3);
    for (const t of passed) assert.ok(t >= start + 150, `passed ${t - start} ms after closing`);
    assert.equal(gate.remainingMs(), 0);
  });
});

describe('graph read layer: Retry-After scopes', () => {
  it('holds every tenant of the app after an Application-scope 429, one tenant after a Tenant_Application one', () => {
    const gates = new RetryAfterGates();
    const t1 = gates.get('App-1', 'tenant-1');
    const t2 = gates.get('app-1', 'TENANT-2');
    const otherApp = gates.get('app-2', 'tenant-1');
    assert.equal(gates.get('app-1', 'tenant-1'), t1, 'one gate per (app, tenant)');
    t1.closeUntil(Date.now() + 1000, throttleScope('Tenant_Application/Read/app-1/tenant-1'));
    assert.ok(t1.remainingMs() > 900);
    assert.equal(t2.remainingMs(), 0);
    t1.closeUntil(Date.now() + 2000, throttleScope('Application/Read/app-1/tenant-1'));
    assert.ok(t2.remainingMs() > 1900 && t1.remainingMs() > 1900);
    assert.equal(otherApp.remainingMs(), 0);
  });
});

describe('graph read layer: pacer', () => {
  it('releases requests at the target share of the budget', async () => {
    const pacer = new Pacer({ windowMs: 1000, initialBudget: 100, minBudget: 10, burstFraction: 0.05 });
    const start = Date.now();
    for (let i = 0; i < 20; i++) pacer.release(await pacer.acquire(5), { resourceUnits: 5, limitPercentage: null });
    const elapsed = Date.now() - start;
    // 100 RU at 90 RU/s after a 5 RU burst: about 1.05 s.
    assert.ok(elapsed >= 950 && elapsed < 1500, `took ${elapsed} ms`);
  });

  it('lowers the budget to the limit implied by x-ms-throttle-limit-percentage', () => {
    const pacer = new Pacer({ windowMs: 10_000, initialBudget: 8000, minBudget: 100 });
    pacer.correct(2800);
    pacer.observeLimitPercentage(0.8);
    // 2,800 RU charged in the window at 0.8 of the limit: a 3,500 RU (size S) tenant.
    assert.equal(Math.round(pacer.state().budget), 3500);
    pacer.observeLimitPercentage(0.79 * (2800 / 3400));
    assert.equal(Math.round(pacer.state().budget), 3500, 'never raised by the percentage');
  });

  it('halves towards the floor on 429s at most once per half window, and bounds requests in flight', async () => {
    const pacer = new Pacer({ windowMs: 1000, initialBudget: 1000, minBudget: 100, decreaseFactor: 0.5 });
    pacer.throttled(10);
    pacer.throttled(10);
    assert.equal(pacer.state().budget, 500);
    // After a 429 only one request is in flight until an answer without throttling comes back.
    await new Promise((r) => setTimeout(r, 60));
    const first = await pacer.acquire(1);
    let second = false;
    const secondTicket = pacer.acquire(1).then((t) => {
      second = true;
      return t;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(second, false, 'a second request waited for the probe');
    pacer.release(first, { resourceUnits: 1, limitPercentage: null });
    pacer.release(await secondTicket);
    assert.equal(second, true);
  });

  it('sends next pages of sequential reads before queued parallel requests, which still get every token left', async () => {
    const pacer = new Pacer({ windowMs: 1000, initialBudget: 100, minBudget: 10, burstFraction: 0.05 });
    const order: string[] = [];
    const take = (name: string, priority: PacerPriority) =>
      pacer.acquire(5, priority).then((t) => {
        order.push(name);
        pacer.release(t, { resourceUnits: 5, limitPercentage: null });
      });
    // The burst (5 RU) lets bulk-1 go at once; the rest queue for tokens at 90 RU/s.
    const waits = [take('bulk-1', 'bulk'), take('bulk-2', 'bulk'), take('bulk-3', 'bulk')];
    waits.push(take('chain-1', 'chain'));
    await new Promise((r) => setTimeout(r, 20));
    waits.push(take('chain-2', 'chain'));
    await Promise.all(waits);
    assert.deepEqual(order, ['bulk-1', 'chain-1', 'chain-2', 'bulk-2', 'bulk-3']);
  });

  it('tells next-page GETs from first pages and batches', () => {
    const ctx = (method: string, url: string) => ({ request: url, options: { method } }) as unknown as Context;
    const root = 'https://graph.example/v1.0';
    assert.equal(pacerPriority(ctx('GET', `${root}/users?$select=id&$top=999&$skiptoken=abc`)), 'chain');
    assert.equal(pacerPriority(ctx('GET', `${root}/groups/delta?%24skiptoken=abc`)), 'chain');
    assert.equal(pacerPriority(ctx('GET', `${root}/users/delta?$deltatoken=xyz`)), 'chain');
    assert.equal(pacerPriority(ctx('GET', `${root}/users?$select=id&$top=999`)), 'bulk');
    assert.equal(pacerPriority(ctx('POST', `${root}/$batch`)), 'bulk');
    // A partition's count and first page are on the critical path too; other filters are not.
    const partition = `$filter=${encodeURIComponent("startswith(userPrincipalName,'ab')")}`;
    assert.equal(pacerPriority(ctx('GET', `${root}/users?$select=id&${partition}&$top=999`)), 'chain');
    assert.equal(pacerPriority(ctx('GET', `${root}/users/$count?$filter=startswith(userPrincipalName,'ab')`)), 'chain');
    assert.equal(
      pacerPriority(ctx('GET', `${root}/groups/g/members/microsoft.graph.user?$count=true&${partition}`)),
      'chain',
    );
    assert.equal(pacerPriority(ctx('GET', `${root}/users?$filter=accountEnabled eq true`)), 'bulk');
  });

  it('increases the budget additively after a window that wanted more without pressure', async () => {
    const pacer = new Pacer({ windowMs: 200, initialBudget: 100, maxBudget: 200, increaseFraction: 0.1 });
    const deadline = Date.now() + 700;
    while (Date.now() < deadline) pacer.release(await pacer.acquire(3), { resourceUnits: 3, limitPercentage: null });
    assert.ok(pacer.state().budget >= 140, `budget ${pacer.state().budget}`);
  });
});

describe('graph read layer: toActivityFailure', () => {
  it('maps a GraphThrottledError to a retryable failure with the server delay', () => {
    const f = toActivityFailure(new GraphThrottledError(12_345)) as ApplicationFailure;
    assert.ok(f instanceof ApplicationFailure);
    assert.equal(f.type, 'GraphThrottled');
    assert.equal(f.nonRetryable, false);
    assert.equal(f.nextRetryDelay, 12_345);
  });

  it('maps Graph answers by status and code', () => {
    const denied = toActivityFailure(graphError(403, 'Authorization_RequestDenied')) as ApplicationFailure;
    assert.equal(denied.type, 'PermissionMissing');
    assert.equal(denied.nonRetryable, true);
    for (const status of [400, 404]) {
      const f = toActivityFailure(graphError(status, 'Request_ResourceNotFound')) as ApplicationFailure;
      assert.equal(f.type, 'GraphRequestFailed');
      assert.equal(f.nonRetryable, true);
    }
    for (const status of [401, 500, 502, 503, 504, -1]) {
      const f = toActivityFailure(graphError(status, 'X'));
      assert.ok(!(f instanceof ApplicationFailure), `${status} is a plain, retryable error`);
    }
    const tooMany = toActivityFailure(graphError(429, 'TooManyRequests', { 'Retry-After': '7' })) as ApplicationFailure;
    assert.equal(tooMany.nextRetryDelay, 7000);
    const gone = toActivityFailure(new DeltaTokenExpiredError('u', 'l', 'syncStateNotFound')) as ApplicationFailure;
    assert.equal(gone.type, 'DeltaTokenExpired');
    assert.equal(gone.nonRetryable, true);
  });

  it('passes token failures and ApplicationFailures through', () => {
    const revoked = authFailure('ConsentRevoked', 'gone');
    assert.equal(toActivityFailure(new TokenAcquisitionError(revoked)), revoked);
    assert.equal(toActivityFailure(revoked), revoked);
  });
});

describe('graph read layer: the reports service', () => {
  it('tells reports requests from directory requests', () => {
    assert.ok(isReportsRequest(`${ROOT}/auditLogs/directoryAudits?$top=999`));
    assert.ok(
      isReportsRequest('https://graph.microsoft.com/beta/reports/authenticationMethods/userRegistrationDetails'),
    );
    assert.ok(!isReportsRequest(`${ROOT}/users?$filter=startswith(displayName,'auditLogs')`));
    assert.ok(!isReportsRequest(`${ROOT}/groups/1/members`));
  });

  it('spaces requests to the window: the third of two per 200 ms waits for the first to leave it', async () => {
    const window = new ReportsWindow({ requests: 2, windowMs: 200 });
    const start = Date.now();
    await window.take();
    await window.take();
    assert.ok(Date.now() - start < 100);
    const waited = await window.take();
    assert.ok(Date.now() - start >= 195 && waited > 0, `third after ${Date.now() - start} ms`);
    assert.ok(!window.idle());
  });

  it('waits out a reports 429 at the reports gate: the directory gate stays open and the pacer is not slowed', async () => {
    const gates = new RetryAfterGates();
    const directory = gates.get('app', 'tenant');
    const reports = gates.get('app', 'tenant', 'reports');
    assert.notEqual(directory, reports);
    const slowed: number[] = [];
    const stats = { throttleWaitMs: 0 } as GraphStats;
    const handler = new RetryAfterHandler(
      directory,
      stats,
      { maxInlineWaitMs: 5_000, maxAttempts: 3, marginMs: 0, fallbackDelayMs: 100 },
      (ms) => slowed.push(ms),
      reports,
    );
    const answers: number[] = [];
    let first = true;
    handler.setNext({
      execute: async (context: Context) => {
        const url = context.request as string;
        const throttle = first;
        first = false;
        answers.push(throttle ? 429 : 200);
        context.response = new Response(null, {
          status: throttle ? 429 : 200,
          headers: throttle ? { 'Retry-After': '0.3' } : {},
        });
        if (throttle && isReportsRequest(url)) assert.equal(directory.remainingMs(), 0);
      },
      setNext: () => {},
    });
    const started = Date.now();
    await handler.execute({ request: `${ROOT}/auditLogs/directoryAudits`, options: {} } as Context);
    assert.deepEqual(answers, [429, 200]);
    assert.ok(Date.now() - started >= 290, 'the retry waited for the Retry-After');
    assert.equal(directory.remainingMs(), 0, 'directory requests were never held');
    assert.deepEqual(slowed, [], 'the pacer is not told');

    first = true;
    await handler.execute({ request: `${ROOT}/users`, options: {} } as Context);
    assert.deepEqual(slowed, [300], 'a directory 429 slows the pacer as before');
  });
});
