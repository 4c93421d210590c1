import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { connectClient } from '../../temporal/connection';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { startFixtureApi, startTenantFixture, type FixtureApi, type TenantFixture } from '../helpers/tenant-fixture';
import { permissionId } from '../../simulator/identity/permissions';
import {
  assertAccessible,
  assertFitsWidth,
  chromiumAvailable,
  chromiumPath,
  launchChromium,
  screenshot,
} from '../helpers/browser';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Show detail in a real browser against the real stack and the Entra simulator: browse a snapshot down to one
 * user's sidebar and history, compare two snapshots around a scripted change, download a type as a zip and unzip
 * it, restore a user deleted for good after reading and confirming the plan.
 */
describe('portal Show detail in a real browser (chromium, real Temporal, Entra simulator)', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: FixtureApi;
  let browser: Browser;
  let page: Page;
  let key: string;
  let directory: string;
  let tenantId: string;
  let work: string;

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${api.baseUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${url}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as any;
  };

  async function consent(app: 'backup' | 'restore', mode?: string) {
    const { consentUrl } = await call('POST', `/tenants/${tenantId}/consent-requests`, { app, mode });
    const microsoft = await fetch(consentUrl, { redirect: 'manual' });
    const callback = await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.text());
  }

  /** Snapshots kept so far (404 until the first backup has finished). */
  const snapshotCount = async () => {
    const res = await fetch(`${api.baseUrl}/tenants/${tenantId}/snapshots`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return res.status === 404 ? 0 : ((await res.json()) as { total: number }).total;
  };

  async function backupAndWait(count: number) {
    await waitFor(
      `snapshot ${count}`,
      async () => ((await call('GET', `/tenants/${tenantId}`)).lastBackup?.status !== 'running' ? true : undefined),
      120_000,
    );
    if (count > 1) await call('POST', `/tenants/${tenantId}/backups`);
    await waitFor('the backup', async () => ((await snapshotCount()) >= count ? true : undefined), 120_000);
  }

  before(async function () {
    if (!chromiumAvailable()) {
      console.warn(`skipping the browser tests: no chromium at ${chromiumPath} (run scripts/setup.sh as root)`);
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'detail-'));
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600' });
    worker = await startWorker(fx.config);
    api = await startFixtureApi(fx, client);
    const reseller = await fx.accounts.createReseller({ name: 'Detail MSP' });
    const organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Contoso' })).id;
    key = (await fx.accounts.createApiKey(reseller.id)).apiKey;

    const ms = fx.sim.control.createTenant({ users: 30, consentMode: 'accept', displayName: 'Tailspin Toys' });
    directory = ms.defaultDomain;
    ({ tenantId } = await call('POST', '/tenants', {
      organizationId,
      directory,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: true,
    }));
    await consent('backup');
    await consent('restore', 'permanent');
    await backupAndWait(1);

    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      ignoreHTTPSErrors: true,
      bypassCSP: true,
      acceptDownloads: true,
    });
    page = await context.newPage();
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  const users = () =>
    fx.sim.control
      .listObjects(directory, 'user')
      .filter((u: any) => !String(u.data.userPrincipalName).includes('#')) as any[];

  async function openDetail() {
    await page.goto(`${api.baseUrl}/#/`);
    await page
      .locator('tr', { hasText: directory })
      .getByRole('link', { name: /Show detail/ })
      .click();
    await page.getByRole('heading', { name: 'Snapshots', exact: true }).waitFor();
  }

  async function openUser(upn: string, name: string) {
    await page.locator('.types').getByRole('button', { name: 'Users' }).click();
    await page.getByLabel('Search users').fill(upn);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText(/^1 matching/).waitFor();
    await page.locator('.objects').getByRole('button', { name }).click();
    await page.getByRole('heading', { name, level: 2 }).waitFor();
  }

  it('opens Show detail, searches a user, opens its sidebar and its history', async () => {
    await openDetail();
    await page.locator('.snap').first().getByText('Complete').waitFor();
    await assertAccessible(page, 'snapshot timeline');
    await screenshot(page, '10-detail-timeline');

    const user = users()[3];
    await openUser(user.data.userPrincipalName, user.data.displayName);
    const sidebar = page.locator('aside.sidebar');
    assert.match(await sidebar.locator('pre.json').innerText(), new RegExp(user.data.userPrincipalName));
    await sidebar
      .getByRole('list', { name: 'Version history' })
      .getByText(/Created|Captured/)
      .waitFor();

    // Relationships by name: a group's members as the users they are.
    const userIds = new Set(users().map((u) => u.id));
    const group = (fx.sim.control.listObjects(directory, 'group') as any[]).find((g) =>
      fx.sim.control.listMembers(directory, g.id).some((m) => userIds.has(m)),
    );
    assert.ok(group, 'the simulated tenant has a group with users in it');
    const memberIds = fx.sim.control.listMembers(directory, group.id);
    const first = users().find((u) => memberIds.includes(u.id));
    await page.locator('.types').getByRole('button', { name: 'Groups' }).click();
    await page.getByLabel('Search groups').fill(group.data.displayName);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.objects').getByRole('button', { name: group.data.displayName, exact: true }).click();
    await page.getByRole('heading', { name: group.data.displayName, level: 2 }).waitFor();
    await sidebar.getByText(`members (${memberIds.length})`).click();
    await sidebar.locator('details li', { hasText: first.data.displayName }).waitFor();
    await assertAccessible(page, 'object sidebar');
    await screenshot(page, '11-detail-object-sidebar');
  });

  it('compares two snapshots after a scripted change and shows exactly that change', async () => {
    const user = structuredClone(users()[5]);
    fx.sim.control.updateObject(directory, user.id, { jobTitle: 'Chief Diff Officer' });
    await backupAndWait(2);

    await openDetail();
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.getByRole('region', { name: 'Differences' });
    await diff.waitFor();
    assert.equal(await diff.locator('li.changed').count(), 1, await diff.innerText());
    assert.equal(await diff.locator('li.added, li.removed').count(), 0, await diff.innerText());
    const changed = await diff.locator('li.changed').innerText();
    assert.match(changed, new RegExp(`Changed: ${user.data.displayName}`));
    const before = user.data.jobTitle === undefined ? '(absent)' : JSON.stringify(user.data.jobTitle);
    assert.ok(changed.includes(`jobTitle: ${before} → "Chief Diff Officer"`), changed);
    assert.equal(await diff.locator('li.changed li').count(), 1, 'one attribute changed, nothing else');
    const asText = await diff.getByRole('link', { name: 'The same difference as plain text' }).getAttribute('href');
    const text = await page.request.get(`${api.baseUrl}${asText}`);
    assert.match(await text.text(), /Chief Diff Officer/);
    await assertAccessible(page, 'diff');
    await screenshot(page, '12-detail-diff');

    // The object's history says it changed, and "What changed" narrows the diff to that object.
    await openUser(user.data.userPrincipalName, user.data.displayName);
    const history = page.getByRole('list', { name: 'Version history' });
    await history.getByText('Changed: attributes').waitFor();
    await history.getByRole('button', { name: 'What changed' }).first().click();
    await page.getByLabel('Only the open object').isChecked();
    await diff.locator('li.changed', { hasText: 'Chief Diff Officer' }).waitFor();
  });

  it('downloads a type-level zip through the page and its content is the users of the snapshot', async () => {
    await openDetail();
    await page.locator('.types').getByRole('button', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Download all users' }).click();
    const link = page.getByRole('link', { name: 'Download zip' });
    await link.waitFor({ timeout: 60_000 });
    const expires = await page.locator('.download time').first().getAttribute('datetime');
    const days = (Date.parse(expires!) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `the link expires in 7 days (${expires})`);
    assert.match(await page.locator('.download time').first().innerText(), /\d{4}/);
    await assertAccessible(page, 'download');
    await screenshot(page, '13-detail-download');

    const file = path.join(work, 'users.zip');
    const downloading = page.waitForEvent('download', { timeout: 30_000 });
    await link.click();
    await (await downloading).saveAs(file);
    const listing = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(listing.some((f) => /users/.test(f)));
    assert.ok(!listing.some((f) => /groups\//.test(f)), `only users: ${listing.join(', ')}`);
    const everything = execFileSync('unzip', ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    for (const u of users()) assert.ok(everything.includes(u.id), `user ${u.id} in the zip`);
  });

  it("cancels a restore from the plan's dialog: it shows as cancelled and nothing was written", async () => {
    const victim = structuredClone(users()[9]);
    fx.sim.control.deleteObject(directory, victim.id, { hard: true });
    const log = fx.sim.control.requestLog({});
    const since = log.length ? log[log.length - 1].seq : 0;

    await openDetail();
    await openUser(victim.data.userPrincipalName, victim.data.displayName);
    await page.getByRole('button', { name: 'Restore this object…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${victim.data.displayName}` });
    await dialog.getByText(/^Re-create/).waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.getByText(/Restore cancelled/).waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /nothing was written/);
    assert.equal(await dialog.getByRole('button', { name: 'Confirm restore' }).count(), 0);
    await assertAccessible(page, 'cancelled restore');
    await screenshot(page, '17-detail-restore-cancelled');

    const jobs = await call('GET', `/jobs?kind=restore&tenantId=${tenantId}`);
    assert.equal(jobs.jobs[0]?.status, 'cancelled', 'the restore itself ended as cancelled');
    const writes = fx.sim.control
      .requestLog({ tenantId: directory, kind: 'graph', sinceSeq: since })
      .filter((e: any) => e.method !== 'GET' && e.status < 400);
    assert.deepEqual(writes, [], 'no write reached the tenant');
    assert.ok(!users().some((u) => u.data.userPrincipalName === victim.data.userPrincipalName), 'still deleted');
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert.equal(await dialog.isVisible(), false);
  });

  it('restores a deleted user after reading and confirming the plan', async () => {
    const victim = structuredClone(users()[7]);
    fx.sim.control.deleteObject(directory, victim.id, { hard: true });

    await openDetail();
    await openUser(victim.data.userPrincipalName, victim.data.displayName);
    await page.getByRole('button', { name: 'Restore this object…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${victim.data.displayName}` });
    await dialog.getByText(/^Re-create/).waitFor({ timeout: 60_000 });
    await dialog.getByText(`Id ${victim.id} will be re-created under a new id.`).waitFor();
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('dialog')), true, 'focus in the dialog');
    await assertAccessible(page, 'restore plan');
    await screenshot(page, '14-detail-restore-plan');

    await dialog.getByRole('button', { name: 'Confirm restore' }).click();
    await dialog.getByText(/Restore completed/).waitFor({ timeout: 120_000 });
    await dialog.getByRole('heading', { name: 'Verification report' }).waitFor();
    const back = users().find((u) => u.data.userPrincipalName === victim.data.userPrincipalName);
    assert.ok(back, 'the user exists again');
    assert.match(await dialog.innerText(), new RegExp(`${victim.id} → ${back.id}`));
    await assertAccessible(page, 'restore report');
    await screenshot(page, '15-detail-restore-report');
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert.equal(await dialog.isVisible(), false);
  });

  it('restores several chosen objects with one plan: choose them across searches, read the plan, confirm', async () => {
    const [gone, changed] = users()
      .slice(11, 13)
      .map((u) => structuredClone(u));
    fx.sim.control.deleteObject(directory, gone.id, { hard: true });
    fx.sim.control.updateObject(directory, changed.id, { jobTitle: 'Renamed by mistake' });

    await openDetail();
    await page.locator('.types').getByRole('button', { name: 'Users' }).click();
    for (const u of [gone, changed]) {
      await page.getByLabel('Search users').fill(u.data.userPrincipalName);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByText(/^1 matching/).waitFor();
      await page.getByRole('checkbox', { name: `Choose ${u.data.displayName} for a restore` }).check();
    }
    await page.getByText(`2 chosen: ${gone.data.displayName}, ${changed.data.displayName}`).waitFor();
    await page.getByRole('button', { name: 'Restore 2 chosen…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore 2 users' });
    await dialog.getByText(`Id ${gone.id} will be re-created under a new id.`).waitFor({ timeout: 60_000 });
    const planned = dialog.locator('section.plan-object', { hasText: changed.data.displayName });
    await planned.getByText('Update the live object').waitFor();
    assert.match(await planned.innerText(), /jobTitle\s+"?Renamed by mistake"?/);
    await assertAccessible(page, 'multi-object restore plan');
    await screenshot(page, '18-detail-restore-chosen-plan');

    await dialog.getByRole('button', { name: 'Confirm restore' }).click();
    await dialog.getByText(/Restore completed/).waitFor({ timeout: 120_000 });
    const back = users().find((u) => u.data.userPrincipalName === gone.data.userPrincipalName);
    assert.ok(back, 'the deleted user exists again');
    const title = fx.sim.control.getObject(directory, changed.id).data.jobTitle;
    assert.equal(title ?? null, changed.data.jobTitle ?? null, 'the changed user has its captured job title again');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('marks an incomplete snapshot as such, with the types it skipped and why', async () => {
    // Without Policy.Read.All the backup cannot read conditional access policies: the snapshot is incomplete.
    for (const a of fx.sim.control.listObjects(directory, 'appRoleAssignment') as any[]) {
      if (a.data.appRoleId === permissionId('Policy.Read.All'))
        fx.sim.control.deleteObject(directory, a.id, { hard: true });
    }
    const before = await snapshotCount();
    await backupAndWait(before + 1);

    await openDetail();
    const newest = page.locator('.snap').first();
    await newest.getByText('Incomplete — not a full backup').waitFor();
    assert.match(await newest.innerText(), /Skipped:.*conditionalAccessPolicies \(permission-missing\)/);
    assert.equal(await newest.getByText('Complete', { exact: true }).count(), 0);
    await page.locator('.types li', { hasText: 'Conditional Access policies' }).getByText('Skipped').waitFor();
    assert.equal(
      await page.locator('.types').getByRole('button', { name: 'Conditional Access policies' }).count(),
      0,
      'a skipped type cannot be opened as if it had been captured',
    );
    assert.match(
      await page.getByLabel('From (older)').innerText(),
      /incomplete \(skipped: [^)]*conditionalAccessPolicies/,
    );
    await assertAccessible(page, 'incomplete snapshot');
    await screenshot(page, '16-detail-incomplete-snapshot');
  });
  it('is usable at 390 px wide: detail, sidebar, diff, download and the restore dialog fit the phone', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      ignoreHTTPSErrors: true,
      bypassCSP: true,
      isMobile: true,
      hasTouch: true,
    });
    const small = await phone.newPage();
    try {
      await small.goto(`${api.baseUrl}/`);
      await small.getByLabel('API key').fill(key);
      await small.getByRole('button', { name: 'Sign in' }).click();
      await small.getByRole('heading', { name: 'Tenants' }).waitFor();
      await assertFitsWidth(small, 'dashboard');
      await small
        .locator('tr', { hasText: directory })
        .getByRole('link', { name: /Show detail/ })
        .click();
      await small.getByRole('heading', { name: 'Snapshots', exact: true }).waitFor();
      await assertFitsWidth(small, 'snapshot timeline');

      const user = users()[4];
      await small.locator('.types').getByRole('button', { name: 'Users' }).click();
      await small.getByLabel('Search users').fill(user.data.userPrincipalName);
      await small.getByRole('button', { name: 'Search', exact: true }).click();
      await small.locator('.objects').getByRole('button', { name: user.data.displayName }).click();
      await small.getByRole('heading', { name: user.data.displayName, level: 2 }).waitFor();
      await assertFitsWidth(small, 'object sidebar');
      await assertAccessible(small, 'object sidebar at 390 px');
      await screenshot(small, '20-phone-object-sidebar');

      await small.getByRole('button', { name: 'Compare' }).click();
      await small.getByRole('region', { name: 'Differences' }).waitFor();
      await assertFitsWidth(small, 'diff');
      await screenshot(small, '21-phone-diff');

      await small.getByRole('button', { name: 'Restore this object…' }).click();
      const dialog = small.getByRole('dialog', { name: `Restore ${user.data.displayName}` });
      await dialog.getByText(/^Nothing to change/).waitFor({ timeout: 60_000 });
      await assertFitsWidth(small, 'restore dialog');
      const box = await dialog.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the dialog fits the screen (${JSON.stringify(box)})`);
      await dialog.getByRole('button', { name: 'Cancel' }).scrollIntoViewIfNeeded();
      await assertAccessible(small, 'restore dialog at 390 px');
      await screenshot(small, '22-phone-restore-plan');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.getByText(/Restore cancelled/).waitFor({ timeout: 30_000 });
      await dialog.getByRole('button', { name: 'Close' }).click();
    } finally {
      await phone.close();
    }
  });
});
