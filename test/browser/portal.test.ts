import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectClient } from '../../temporal/connection';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { BACKUP_APP, startFixtureApi, startTenantFixture } from '../helpers/tenant-fixture';
import type { FixtureApi, TenantFixture } from '../helpers/tenant-fixture';
import { assertAccessible, chromiumAvailable, chromiumPath, launchChromium, screenshot } from '../helpers/browser';

/**
 * The seed article's walk through the portal, in Debian's chromium against the real stack and the Entra simulator:
 * sign in, add a tenant and activate backup, accept consent in the popup, watch the first backup on System Status
 * and its result on the dashboard, revoke consent and bring the tenant back with Update now, page a big list.
 */
describe('portal in a real browser (chromium, real Temporal, Entra simulator)', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: FixtureApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let resellerKey: string;
  let resellerId: string;
  let organizationId: string;

  before(async function () {
    if (!chromiumAvailable()) {
      console.warn(`skipping the browser tests: no chromium at ${chromiumPath} (run scripts/setup.sh as root)`);
      this.skip();
    }
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600' });
    worker = await startWorker(fx.config);
    api = await startFixtureApi(fx, client);
    const reseller = await fx.accounts.createReseller({ name: 'Northwind MSP' });
    resellerId = reseller.id;
    organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Contoso' })).id;
    resellerKey = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    browser = await launchChromium();
    // The simulator's certificate comes from the test CA; axe-core is injected into pages whose CSP forbids that.
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      ignoreHTTPSErrors: true,
      bypassCSP: true,
    });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  async function signIn(p: Page, key: string) {
    await p.goto(`${api.baseUrl}/`);
    await p.getByLabel('API key').fill(key);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  const row = (p: Page, directory: string) => p.locator('tr', { hasText: directory });

  it('signs in with an API key kept out of the page, its URL and web storage', async () => {
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('API key').waitFor();
    await assertAccessible(page, 'sign-in');
    await screenshot(page, '01-sign-in');

    await page.getByLabel('API key').fill('ebk_nobody_key-x_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('the API key is unknown or revoked').waitFor();

    await signIn(page, resellerKey);
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    assert.ok(!page.url().includes(resellerKey));
    assert.ok(!(await page.content()).includes(resellerKey));
    const storage = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    assert.equal(storage, '{}{}');
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'entra_backup_session');
    assert.ok(cookie.httpOnly && cookie.sameSite === 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the script cannot read the session');
  });

  it('adds a tenant, activates backup, takes consent in the popup and shows the first backup', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 25, consentMode: 'page', displayName: 'Fabrikam Ltd' });
    await page.getByRole('button', { name: 'Add tenant' }).click();
    await page.getByLabel('Microsoft tenant id or domain').fill(msTenant.defaultDomain);
    await page.getByLabel('Storage location').selectOption('default');
    await page.getByLabel(/^Archiver/).check();
    await page.getByText('Archiver can never be downgraded').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Activate Backup' }).isDisabled(), true);
    await page.getByLabel(/^Backup —/).check();
    await assertAccessible(page, 'add tenant');
    await screenshot(page, '02-add-tenant');
    await page.getByRole('button', { name: 'Activate Backup' }).click();

    const popupOpened = context.waitForEvent('page');
    await page.getByRole('button', { name: 'Sign in with Microsoft', exact: true }).click();
    const popup = await popupOpened;
    await popup.getByRole('button', { name: 'Accept' }).click();
    await popup.waitForURL(/\/consent\/callback/);
    await popup.close();

    await page.getByText(`Consent received: Fabrikam Ltd is active.`).waitFor({ timeout: 30_000 });
    await row(page, 'Fabrikam Ltd').getByText('Active', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'System Status' }).click();
    await page.getByRole('heading', { name: 'System Status' }).waitFor();
    const job = page.locator('li.job', { hasText: 'backup' }).first();
    await job.waitFor();
    await assertAccessible(page, 'system status');
    await screenshot(page, '03-system-status');
    await job.locator('.result-completed').waitFor({ timeout: 60_000 });
    // The consent that led here is a job too: onboarding, completed with the consent granted.
    await page
      .locator('li.job', { hasText: 'onboarding' })
      .filter({ hasText: 'consent granted for' })
      .locator('.result-completed')
      .first()
      .waitFor();
    const link = await job.getByRole('link', { name: 'Open in Temporal Web UI' }).getAttribute('href');
    assert.match(link ?? '', /\/namespaces\/default\/workflows\/backup/);

    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await row(page, 'Fabrikam Ltd').getByText('complete', { exact: true }).waitFor({ timeout: 30_000 });
    assert.match(await row(page, 'Fabrikam Ltd').locator('td[data-label="Next backup"]').innerText(), /\d/);
    await assertAccessible(page, 'dashboard');
    await screenshot(page, '04-dashboard');
    await page.setViewportSize({ width: 390, height: 844 });
    await row(page, 'Fabrikam Ltd')
      .getByRole('button', { name: /Backup now/ })
      .waitFor();
    await assertAccessible(page, 'dashboard at 390 px');
    await screenshot(page, '04b-dashboard-390px');
    await page.setViewportSize({ width: 1280, height: 800 });

    await row(page, 'Fabrikam Ltd')
      .getByRole('button', { name: /Backup now/ })
      .click();
    await page.locator('.banner', { hasText: /Backup of Fabrikam Ltd started|already running/ }).waitFor();

    await row(page, 'Fabrikam Ltd')
      .getByRole('link', { name: /Show detail/ })
      .click();
    await page.getByRole('heading', { name: 'Fabrikam Ltd' }).waitFor();
    await assertAccessible(page, 'tenant detail');
    await screenshot(page, '05-tenant-detail');
    await page.getByRole('link', { name: '← Tenants' }).click();

    // Revoked in the tenant: the next backup fails to authenticate and the dashboard says why, then Update now.
    fx.sim.control.revokeConsent(msTenant.id, BACKUP_APP.clientId, 'servicePrincipal');
    await waitFor(
      'the running backup to end',
      async () => {
        for await (const e of client.workflow.list({
          query: `ResellerId = '${resellerId}' AND ExecutionStatus = 'Running' AND JobKind = 'backup'`,
        })) {
          void e;
          return undefined;
        }
        return true;
      },
      60_000,
    );
    await row(page, 'Fabrikam Ltd')
      .getByRole('button', { name: /Backup now/ })
      .click();
    await row(page, 'Fabrikam Ltd').getByText('Reauthorization required').waitFor({ timeout: 60_000 });
    assert.match(await row(page, 'Fabrikam Ltd').locator('td[data-label="Status"]').innerText(), /AADSTS|authorized/);
    await assertAccessible(page, 'reauthorization required');
    await screenshot(page, '06-reauthorization-required');

    const again = context.waitForEvent('page');
    await row(page, 'Fabrikam Ltd')
      .getByRole('button', { name: /Update now/ })
      .click();
    const popup2 = await again;
    await popup2.getByRole('button', { name: 'Accept' }).click();
    await popup2.waitForURL(/\/consent\/callback/);
    await popup2.close();
    await page.getByText('Consent received: Fabrikam Ltd is active.').waitFor({ timeout: 30_000 });
    await row(page, 'Fabrikam Ltd').getByText('Active', { exact: true }).waitFor();
  });

  it('shows an organization user the refusal of the API in its own words', async () => {
    const orgKey = (await fx.accounts.createApiKey(resellerId, organizationId)).apiKey;
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    const p = await ctx.newPage();
    await signIn(p, orgKey);
    await p.getByRole('alert').getByText('organizations cannot manage Entra backups; only resellers can').waitFor();
    assert.equal(await p.getByRole('button', { name: 'Add tenant' }).count(), 0);
    await screenshot(p, '07-organization-user-390px');
    await ctx.close();
  });

  it('pages a big list: the first page renders with 100 tenants and Next page shows the rest', async () => {
    const big = await fx.accounts.createReseller({ name: 'Big MSP' });
    const org = await fx.accounts.createOrganization(big.id, { name: 'Many' });
    const key = (await fx.accounts.createApiKey(big.id)).apiKey;
    for (let i = 0; i < 105; i++) {
      const res = await fetch(`${api.baseUrl}/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          organizationId: org.id,
          directory: `t${String(i).padStart(3, '0')}.example.com`,
          plan: 'backup',
          storageLocationId: 'default',
        }),
      });
      assert.equal(res.status, 201);
    }
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const p = await ctx.newPage();
    await signIn(p, key);
    const started = Date.now();
    await p.getByText('105 tenants — page 1').waitFor();
    const renderMs = Date.now() - started;
    assert.equal(await p.locator('tbody tr').count(), 100);
    await screenshot(p, '08-dashboard-paged');
    await p.getByRole('button', { name: 'Next page' }).click();
    await p.getByText('105 tenants — page 2').waitFor();
    assert.equal(await p.locator('tbody tr').count(), 5);
    console.log(`      first page of 105 tenants rendered ${renderMs} ms after sign-in`);
    await ctx.close();
  });
});
