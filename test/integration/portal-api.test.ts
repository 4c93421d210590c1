import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { tenantListMemoKey } from '../../tenants/list-entry';
import { tenantWorkflowId } from '../../tenants/types';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { startApi, newReseller, bearer, type TestApi } from '../helpers/accounts';
import { waitFor } from '../helpers/http';

describe('portal API: session sign-in and the paged tenant list (real Temporal)', () => {
  let stack: TestStack;
  let client: Client;
  let worker: RunningWorker;
  let api: TestApi;
  let reseller: Awaited<ReturnType<typeof newReseller>>;
  let organizationId: string;
  let orgUserKey: string;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    api = await startApi(stack, client);
    reseller = await newReseller(api.accounts, 'Portal MSP');
    organizationId = (await api.accounts.createOrganization(reseller.resellerId, { name: 'Contoso' })).id;
    orgUserKey = (await api.accounts.createApiKey(reseller.resellerId, organizationId)).apiKey;
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
  });

  async function signIn(apiKey: string) {
    const res = await fetch(`${api.baseUrl}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { res, setCookie, cookie: setCookie.split(';')[0], body: (await res.json()) as Record<string, unknown> };
  }

  const addTenant = (directory: string, plan = 'backup', headers: Record<string, string> = bearer(reseller.apiKey)) =>
    fetch(`${api.baseUrl}/tenants`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        organizationId,
        directory,
        plan,
        storageLocationId: 'default',
      }),
    });

  it('exchanges an API key for an HttpOnly SameSite=Strict cookie and never answers the key back', async () => {
    const bad = await signIn('ebk_nobody_key-x_wrong');
    assert.equal(bad.res.status, 401);
    assert.equal(bad.setCookie, '');

    const { res, setCookie, body } = await signIn(reseller.apiKey);
    assert.equal(res.status, 201);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Max-Age=28800/, 'eight hours by default');
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP on the loopback: a Secure cookie would never come back');
    assert.ok(!setCookie.includes(reseller.apiKey) && !JSON.stringify(body).includes(reseller.apiKey));
    assert.equal((body.principal as { kind: string }).kind, 'reseller');
    assert.equal(typeof body.csrfToken, 'string');
  });

  it('lets the cookie read, and change only with the CSRF token; revoking the key ends the session', async () => {
    const { cookie, body } = await signIn(reseller.apiKey);
    const list = await fetch(`${api.baseUrl}/tenants`, { headers: { cookie } });
    assert.equal(list.status, 200);

    const withoutToken = await addTenant('csrf-less.example.com', 'backup', { cookie });
    assert.equal(withoutToken.status, 403);
    assert.match(((await withoutToken.json()) as { detail: string }).detail, /x-csrf-token/);
    const wrongToken = await addTenant('csrf-wrong.example.com', 'backup', { cookie, 'x-csrf-token': 'x' });
    assert.equal(wrongToken.status, 403);
    const withToken = await addTenant('csrf-ok.example.com', 'backup', {
      cookie,
      'x-csrf-token': body.csrfToken as string,
    });
    assert.equal(withToken.status, 201, await withToken.clone().text());

    const again = await fetch(`${api.baseUrl}/session`, { headers: { cookie } });
    assert.equal(((await again.json()) as { csrfToken: string }).csrfToken, body.csrfToken, 'after a reload');

    const { apiKey, key } = await api.accounts.createApiKey(reseller.resellerId);
    const second = await signIn(apiKey);
    assert.equal((await fetch(`${api.baseUrl}/tenants`, { headers: { cookie: second.cookie } })).status, 200);
    await api.accounts.revokeApiKey(reseller.resellerId, key.keyId);
    const revoked = await fetch(`${api.baseUrl}/tenants`, { headers: { cookie: second.cookie } });
    assert.equal(revoked.status, 401);

    const [name, value] = cookie.split('=');
    const flipped = `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`;
    const forged = await fetch(`${api.baseUrl}/tenants`, { headers: { cookie: `${name}=${flipped}` } });
    assert.equal(forged.status, 401);
    assert.match(((await forged.json()) as { detail: string }).detail, /sign in again/);
  });

  it("shows an organization user the API's refusal", async () => {
    const { cookie, res } = await signIn(orgUserKey);
    assert.equal(res.status, 201);
    const list = await fetch(`${api.baseUrl}/tenants`, { headers: { cookie } });
    assert.equal(list.status, 403);
    assert.match(((await list.json()) as { detail: string }).detail, /only resellers can/);
  });

  it('pages tenants by cursor, newest first, filters by plan, status, organization and last backup and searches', async () => {
    const other = await newReseller(api.accounts, 'Other MSP');
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((n) => `list-${n}.example.org`);
    for (const [i, name] of names.entries()) {
      const res = await addTenant(name, i === 1 ? 'archiver' : 'backup');
      assert.equal(res.status, 201);
    }
    type Page = { tenants: { directory: string; plan: string; status: string }[]; total: number; nextCursor?: string };
    const get = async (query: string, key = reseller.apiKey) => {
      const res = await fetch(`${api.baseUrl}/tenants?${query}`, { headers: bearer(key) });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Page;
    };
    // The list shows each tenant's memo: wait until every new workflow has written it.
    await waitFor('list memos', async () => {
      for await (const e of client.workflow.list({ query: `ResellerId = '${reseller.resellerId}'` })) {
        if (e.type === 'tenantWorkflow' && !e.memo?.[tenantListMemoKey]) return undefined;
      }
      return true;
    });

    // A search is a visibility query (a prefix of the name or domain): paged by Temporal's token, newest first.
    const first = await get('search=list-&pageSize=2');
    assert.equal(first.total, 5);
    const seen = [...first.tenants.map((t) => t.directory)];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await get(`search=list-&pageSize=2&cursor=${cursor}`);
      assert.ok(page.tenants.length <= 2);
      assert.equal(page.total, 5);
      seen.push(...page.tenants.map((t) => t.directory));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [...names].reverse(), 'each tenant once, the newest first');

    assert.deepEqual(
      (await get('plan=archiver&search=list-')).tenants.map((t) => t.directory),
      [names[1]],
    );
    assert.equal((await get('plan=backup&search=list-')).total, 4);
    assert.deepEqual(
      (await get('search=LIST-CHARLIE')).tenants.map((t) => t.directory),
      [names[2]],
    );
    assert.equal((await get('search=example.org')).total, 0, 'a prefix, not any part');
    assert.equal((await get('status=active&search=list-')).total, 0);
    assert.equal((await get('status=awaiting-consent&search=list-')).total, 5);
    assert.equal((await get('lastBackup=none&search=list-')).total, 5);
    assert.equal((await get('lastBackup=completed&search=list-')).total, 0);
    assert.equal((await get(`organizationId=${organizationId}&search=list-`)).total, 5);
    assert.equal((await get('search=list-', other.apiKey)).total, 0, "another reseller's list");
    const quoted = await fetch(`${api.baseUrl}/tenants?search=${encodeURIComponent("o'brien")}`, {
      headers: bearer(reseller.apiKey),
    });
    assert.equal(quoted.status, 400, 'a quote could leave the visibility query string');
    assert.match(await quoted.text(), /query\.search/);

    // Without search or memo-only filters a page is one visibility page; the cursor is Temporal's page token.
    const all: string[] = [];
    cursor = undefined;
    do {
      const page = await get(`pageSize=4${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.tenants.length <= 4);
      assert.equal(page.total, 6, 'five listed tenants and the one added with the CSRF token');
      all.push(...page.tenants.map((t) => t.directory));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual([...all].sort(), [...names, 'csrf-ok.example.com'].sort());

    const tooBig = await fetch(`${api.baseUrl}/tenants?pageSize=201`, { headers: bearer(reseller.apiKey) });
    assert.equal(tooBig.status, 400);
    const badCursor = await fetch(`${api.baseUrl}/tenants?cursor=bm9wZQ`, { headers: bearer(reseller.apiKey) });
    assert.equal(badCursor.status, 400);

    // The memo follows the record: a plan change shows in the list without asking the workflow.
    const echo = (await get('search=list-echo')).tenants[0] as unknown as { tenantId: string };
    const changed = await fetch(`${api.baseUrl}/tenants/${echo.tenantId}/plan`, {
      method: 'PUT',
      headers: { ...bearer(reseller.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({ plan: 'archiver' }),
    });
    assert.equal(changed.status, 200);
    await waitFor('memo to follow the plan change', async () => {
      const d = await client.workflow.getHandle(tenantWorkflowId(echo.tenantId)).describe();
      return (d.memo?.[tenantListMemoKey] as { plan?: string } | undefined)?.plan === 'archiver' ? true : undefined;
    });
    await waitFor('the plan filter to follow', async () =>
      (await get('plan=archiver&search=list-')).total === 2 ? true : undefined,
    );
  });

  it('shows tenants awaiting consent as onboarding jobs on System Status, with what they wait for', async () => {
    const jobsOf = async (query: string) => {
      const res = await fetch(`${api.baseUrl}/jobs?${query}`, { headers: bearer(reseller.apiKey) });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { jobs: Record<string, string>[] }).jobs;
    };
    const res = await addTenant('onboarding-job.example.net');
    const { tenantId } = (await res.json()) as { tenantId: string };
    // This stack has no Entra apps configured, so no consent can be requested: the job says what is missing.
    const job = await waitFor(
      'the onboarding job',
      async () => (await jobsOf(`kind=onboarding&tenantId=${tenantId}`))[0],
    );
    assert.equal(job.kind, 'onboarding');
    assert.equal(job.status, 'awaiting-consent');
    assert.equal(job.temporalStatus, 'RUNNING');
    assert.match(job.reason, /onboarding-job\.example\.net/);
    // Unfiltered, System Status lists it beside the other jobs; a backup-only list does not.
    assert.ok((await jobsOf('limit=500')).some((j) => j.kind === 'onboarding' && j.tenantId === tenantId));
    assert.equal((await jobsOf(`kind=backup&tenantId=${tenantId}`)).length, 0);
  });

  it('serves the portal page without anything secret and with a strict content security policy', async () => {
    const page = await fetch(`${api.baseUrl}/portal/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/portal\/app.js">/);
    const script = await fetch(`${api.baseUrl}/portal/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 1000);
    const root = await fetch(`${api.baseUrl}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/portal/');
  });
});
