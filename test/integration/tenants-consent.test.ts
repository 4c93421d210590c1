import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { createApp } from '../../api/app';
import { StorageAuditLog } from '../../api/audit/storage-audit-log';
import { createStorageClient } from '../../storage/gcs-client';
import { backupScheduleId, tenantWorkflowId } from '../../tenants/types';
import { tenantWorkflow } from '../../workflows';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { listen, waitFor } from '../helpers/http';
import { BACKUP_APP, RESTORE_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';

describe('tenants, consent and reauthorization (real Temporal, Entra simulator)', () => {
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: Awaited<ReturnType<typeof listen>>;
  let resellerKey: string;
  let otherResellerKey: string;
  let orgUserKey: string;
  let organizationId: string;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600' });
    worker = await startWorker(fx.config);
    const storage = createStorageClient(fx.config.storage);
    const app = createApp({
      config: fx.config,
      client,
      storage,
      accounts: fx.accounts,
      audit: new StorageAuditLog(storage, fx.config.storage.defaultBucket),
    });
    api = await listen(app, fx.apiPort);

    const reseller = await fx.accounts.createReseller({ name: 'Northwind MSP' });
    const other = await fx.accounts.createReseller({ name: 'Fabrikam MSP' });
    organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Contoso' })).id;
    resellerKey = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    otherResellerKey = (await fx.accounts.createApiKey(other.id)).apiKey;
    orgUserKey = (await fx.accounts.createApiKey(reseller.id, organizationId)).apiKey;
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  const call = (method: string, path: string, body?: unknown, key = resellerKey) =>
    fetch(`${api.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function addTenant(directory: string, extra: Record<string, unknown> = {}) {
    const res = await call('POST', '/tenants', {
      organizationId,
      directory,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: false,
      ...extra,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { tenantId: string; status: string };
  }

  /** Asks for consent, lets the simulated admin answer, and follows Microsoft's redirect to our callback. */
  async function consent(tenantId: string, app: 'backup' | 'restore' = 'backup', mode?: string) {
    const res = await call('POST', `/tenants/${tenantId}/consent-requests`, { app, mode });
    assert.equal(res.status, 201, await res.clone().text());
    const { consentUrl } = (await res.json()) as { consentUrl: string };
    const microsoft = await fetch(consentUrl, { redirect: 'manual' });
    assert.equal(microsoft.status, 302);
    const callbackUrl = microsoft.headers.get('location')!;
    assert.ok(callbackUrl.startsWith(`${api.baseUrl}/consent/callback?`), callbackUrl);
    const callback = await fetch(callbackUrl, { headers: { accept: 'application/json' } });
    return { consentUrl, callbackUrl, callback };
  }

  const tenant = async (tenantId: string) => (await (await call('GET', `/tenants/${tenantId}`)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('add tenant → consent URL → admin approves → verified, daily schedule created, first backup triggered', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 20, consentMode: 'accept' });
    const { tenantId, status } = await addTenant(msTenant.id, { backupImmediately: true });
    assert.equal(status, 'awaiting-consent');

    const { consentUrl, callback } = await consent(tenantId);
    const url = new URL(consentUrl);
    assert.equal(url.pathname, `/${msTenant.id}/v2.0/adminconsent`);
    assert.equal(url.searchParams.get('client_id'), BACKUP_APP.clientId);
    assert.equal(url.searchParams.get('redirect_uri'), `${api.baseUrl}/consent/callback`);
    assert.equal(callback.status, 200);

    const active = await waitFor('tenant to become active', async () => {
      const t = await tenant(tenantId);
      return t.status === 'active' && t.lastBackup?.status === 'completed' ? t : undefined;
    });
    assert.equal(active.backupApp.state, 'granted');
    assert.equal(active.microsoftTenantId, msTenant.id);
    assert.deepEqual(active.backupApp.missingRoles, []);

    const schedule = await client.schedule.getHandle(backupScheduleId(tenantId)).describe();
    assert.equal(schedule.state.paused, false);
    assert.deepEqual(
      schedule.spec.intervals?.map((i) => i.every),
      [24 * 60 * 60 * 1000],
    );
    assert.equal(schedule.policies.overlap, 'SKIP');
    const backup = await client.workflow.getHandle(active.lastBackup.workflowId).result();
    assert.equal(backup.status, 'completed');
    assert.ok(backup.snapshotId, 'the first backup wrote a snapshot');
  });

  it('records a declined consent and leaves the tenant waiting', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'decline' });
    const { tenantId } = await addTenant(msTenant.id);
    const { callback } = await consent(tenantId);
    assert.equal(callback.status, 200);
    const t = await waitFor('decline recorded', async () => {
      const t = await tenant(tenantId);
      return t.backupApp.state === 'declined' ? t : undefined;
    });
    assert.equal(t.status, 'awaiting-consent');
    assert.match(t.backupApp.reason, /access_denied/);
    await assert.rejects(client.schedule.getHandle(backupScheduleId(tenantId)).describe());
  });

  it('expires an unanswered consent request, after which its callback is refused', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    // Started directly to give this one tenant a short consent timeout; the API then treats it like any other.
    const tenantId = randomUUID();
    const reseller = (await fx.accounts.authenticate(resellerKey))!;
    await client.workflow.start(tenantWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: tenantWorkflowId(tenantId),
      args: [
        {
          tenant: {
            tenantId,
            resellerId: reseller.resellerId,
            organizationId,
            directory: msTenant.id,
            storage: { bucket: 'b', prefix: 'p', region: 'r' },
            plan: 'backup',
            backupImmediately: false,
            consentTimeoutMs: 1500,
            createdAt: new Date().toISOString(),
          },
        },
      ],
    });
    const res = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
    const { consentUrl } = (await res.json()) as { consentUrl: string };
    const callbackUrl = (await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!;
    const t = await waitFor('expiry', async () => {
      const t = await tenant(tenantId);
      return t.backupApp.state === 'expired' ? t : undefined;
    });
    assert.equal(t.status, 'awaiting-consent');
    const late = await fetch(callbackUrl);
    assert.equal(late.status, 400);
    assert.equal((await tenant(tenantId)).backupApp.state, 'expired');
  });

  it('refuses forged and replayed state and changes nothing', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id);
    const res = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
    const { consentUrl } = (await res.json()) as { consentUrl: string };
    const callbackUrl = (await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!;

    const forged = new URL(callbackUrl);
    const state = forged.searchParams.get('state')!;
    forged.searchParams.set('state', state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA'));
    const forgedRes = await fetch(forged);
    assert.equal(forgedRes.status, 400);
    assert.match(((await forgedRes.json()) as { detail: string }).detail, /bad signature|malformed/);
    assert.equal((await tenant(tenantId)).backupApp.state, 'pending');

    assert.equal((await fetch(callbackUrl, { headers: { accept: 'application/json' } })).status, 200);
    const replay = await fetch(callbackUrl);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { detail: string }).detail, /unknown, already answered or expired/);
  });

  it('revoked consent → Reauthorization required with the schedule paused → Update now → active again', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id);
    await consent(tenantId);
    await waitFor('active', async () => ((await tenant(tenantId)).status === 'active' ? true : undefined));

    fx.sim.control.revokeConsent(msTenant.id, BACKUP_APP.clientId, 'servicePrincipal');
    const started = await call('POST', `/tenants/${tenantId}/backups`);
    assert.equal(started.status, 202);
    const t = await waitFor('reauthorization required', async () => {
      const t = await tenant(tenantId);
      return t.status === 'reauthorization-required' && t.schedulePaused ? t : undefined;
    });
    assert.equal(t.reauthorizationRequired, true);
    assert.match(t.backupApp.reason, /AADSTS7000229|not authorized/);
    assert.equal((await client.schedule.getHandle(backupScheduleId(tenantId)).describe()).state.paused, true);
    const refused = await call('POST', `/tenants/${tenantId}/backups`);
    assert.equal(refused.status, 409);

    const update = await call('POST', `/tenants/${tenantId}/reauthorize`);
    assert.equal(update.status, 201);
    const { consentUrl } = (await update.json()) as { consentUrl: string };
    const back = await fetch((await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!);
    assert.equal(back.status, 200);
    await waitFor('active again', async () => {
      const t = await tenant(tenantId);
      return t.status === 'active' && !t.schedulePaused ? true : undefined;
    });
    assert.equal((await client.schedule.getHandle(backupScheduleId(tenantId)).describe()).state.paused, false);
  });

  it('grants the Restore app for one restore only, and shows it', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id);
    await consent(tenantId, 'restore', 'one-time');
    const t = await waitFor('restore consent', async () => {
      const t = await tenant(tenantId);
      return t.restoreApp.state === 'granted' ? t : undefined;
    });
    assert.equal(t.restoreApp.mode, 'one-time');
    assert.equal(t.status, 'awaiting-consent');
    const bad = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'restore' });
    assert.equal(bad.status, 400);
  });

  it('refuses an Archiver downgrade with 409 and keeps the plan', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5 });
    const { tenantId } = await addTenant(msTenant.id, { plan: 'archiver' });
    const res = await call('PUT', `/tenants/${tenantId}/plan`, { plan: 'backup' });
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { detail: string }).detail, /can never be downgraded/);
    assert.equal((await tenant(tenantId)).plan, 'archiver');
    assert.equal((await call('PUT', `/tenants/${tenantId}/plan`, { plan: 'archiver' })).status, 200);
  });

  it('Backup now while a backup runs returns the running one; System Status lists it with its progress', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 300, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id);
    await consent(tenantId);
    await waitFor('active', async () => ((await tenant(tenantId)).status === 'active' ? true : undefined));
    fx.sim.control.setLatency({ baseMs: 60, jitterMs: 0 });
    try {
      const first = await call('POST', `/tenants/${tenantId}/backups`);
      assert.equal(first.status, 202);
      const started = (await first.json()) as { workflowId: string; alreadyRunning: boolean };
      const again = await call('POST', `/tenants/${tenantId}/backups`);
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { workflowId: started.workflowId, alreadyRunning: true });

      const running = await waitFor('the job listed as running', async () => {
        const res = await call('GET', `/jobs?tenantId=${tenantId}&status=running`);
        const { jobs } = (await res.json()) as { jobs: { workflowId: string; kind: string; progress?: unknown }[] };
        return jobs.find((j) => j.workflowId === started.workflowId && j.progress);
      });
      assert.equal(running.kind, 'backup');
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
      await client.workflow.getHandle(started.workflowId).result();
      const done = await waitFor('the job listed as completed', async () => {
        const res = await call('GET', `/jobs?tenantId=${tenantId}&kind=backup`);
        const { jobs } = (await res.json()) as { jobs: { workflowId: string; status: string }[] };
        const job = jobs.find((j) => j.workflowId === started.workflowId);
        return job?.status === 'completed' ? job : undefined;
      });
      assert.equal(done.status, 'completed');
      const otherReseller = await call('GET', `/jobs?tenantId=${tenantId}`, undefined, otherResellerKey);
      assert.deepEqual(((await otherReseller.json()) as { jobs: unknown[] }).jobs, []);
      const bad = await call('GET', `/jobs?tenantId=x' OR 1=1`);
      assert.equal(bad.status, 400);
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
  });

  it('System Status shows a terminated backup as terminated, with the reason, not as still running', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 300, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id);
    await consent(tenantId);
    await waitFor('active', async () => ((await tenant(tenantId)).status === 'active' ? true : undefined));
    fx.sim.control.setLatency({ baseMs: 200, jitterMs: 0 });
    try {
      const started = (await (await call('POST', `/tenants/${tenantId}/backups`)).json()) as { workflowId: string };
      const handle = client.workflow.getHandle(started.workflowId);
      await waitFor('capturing', async () =>
        (await handle.describe()).searchAttributes.JobStatus?.[0] === 'capturing' ? true : undefined,
      );
      await handle.terminate('stopped by the operator for the test');
      const job = await waitFor('the job listed as terminated', async () => {
        const res = await call('GET', `/jobs?tenantId=${tenantId}&kind=backup`);
        const { jobs } = (await res.json()) as { jobs: { workflowId: string; status: string; reason?: string }[] };
        const job = jobs.find((j) => j.workflowId === started.workflowId);
        return job?.status === 'terminated' ? job : undefined;
      });
      assert.match(job.reason ?? '', /stopped by the operator for the test/);
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
  });

  it('answers 403 to organization users and 404 to other resellers', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5 });
    const { tenantId } = await addTenant(msTenant.id);
    const asOrgUser = await call('GET', `/tenants/${tenantId}`, undefined, orgUserKey);
    assert.equal(asOrgUser.status, 403);
    assert.match(((await asOrgUser.json()) as { detail: string }).detail, /only resellers/);
    const asOther = await call('GET', `/tenants/${tenantId}`, undefined, otherResellerKey);
    assert.equal(asOther.status, 404);
    const otherList = (await (await call('GET', '/tenants', undefined, otherResellerKey)).json()) as {
      tenants: unknown[];
    };
    assert.equal(otherList.tenants.length, 0);
    const planAsOther = await call('PUT', `/tenants/${tenantId}/plan`, { plan: 'archiver' }, otherResellerKey);
    assert.equal(planAsOther.status, 404);
    assert.equal((await tenant(tenantId)).plan, 'backup');
  });

  it('keeps secrets, tokens and consent codes out of the tenant workflow history in plain text', async () => {
    const msTenant = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    const { tenantId } = await addTenant(msTenant.id, { backupImmediately: true });
    const { consentUrl } = await consent(tenantId);
    await waitFor('active', async () =>
      (await tenant(tenantId)).lastBackup?.status === 'completed' ? true : undefined,
    );
    const state = new URL(consentUrl).searchParams.get('state')!;
    const histories = [tenantWorkflowId(tenantId), (await tenant(tenantId)).lastBackup.workflowId].map((id) =>
      client.workflow.getHandle(id).fetchHistory(),
    );
    const raw = JSON.stringify(await Promise.all(histories));
    const forms = (s: string) => [s, Buffer.from(s).toString('base64')];
    for (const secret of [BACKUP_APP.secret, RESTORE_APP.secret, fx.config.entra.consentStateKey, state, resellerKey]) {
      for (const form of forms(secret)) assert.equal(raw.includes(form), false, 'a secret is in the history');
    }
    assert.equal(raw.includes('adminconsent'), false, 'the consent URL is in the history in plain text');
    assert.ok(raw.includes(Buffer.from('binary/encrypted').toString('base64')), 'payloads are not encrypted');
  });

  it('rejects a bad directory naming the field and creates nothing', async () => {
    const before = await client.workflow.count(`WorkflowType = 'tenantWorkflow'`);
    const res = await call('POST', '/tenants', {
      organizationId,
      directory: 'not a tenant',
      storageLocationId: 'default',
      plan: 'backup',
    });
    assert.equal(res.status, 400);
    const problem = (await res.json()) as { errors: { field: string }[] };
    assert.equal(problem.errors[0].field, 'body.directory');
    assert.equal((await client.workflow.count(`WorkflowType = 'tenantWorkflow'`)).count, before.count);
  });
});
