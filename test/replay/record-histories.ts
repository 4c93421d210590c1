import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { connectClient } from '../../temporal/connection';
import { createApp } from '../../api/app';
import { StorageAuditLog } from '../../api/audit/storage-audit-log';
import { createStorageClient } from '../../storage/gcs-client';
import { tenantWorkflowId } from '../../tenants/types';
import { exportCleanupWorkflowId } from '../../exports/object-names';
import { storageProbeWorkflow } from '../../workflows';
import { resellerAccountWorkflowId } from '../../workflows/reseller-account-messages';
import { sharedTestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { listen, waitFor } from '../helpers/http';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';

/**
 * Records the histories the replay test (test/workflows/replay.test.ts) replays: one real run of every workflow kind
 * against the real stack and simulator, written to test/fixtures/histories/. Run it (`npm run record:histories`)
 * after a workflow change that is meant to change commands, once that change is behind `patched()`, and commit the
 * files: then CI replays both the old histories (proving the patch) and the new ones. Histories of an older release
 * are kept beside (HISTORY_NAME_PREFIX names them) until its patches are deprecated.
 */
const OUT = path.resolve(__dirname, '../fixtures/histories');
/** Names the files, e.g. `before-versioning-` for histories recorded with an older release's workflow code. */
const PREFIX = process.env.HISTORY_NAME_PREFIX ?? '';

describe('record workflow histories for the replay test', function () {
  this.timeout(300_000);
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: Awaited<ReturnType<typeof listen>>;

  // Recorded as production runs with tracing on (OTEL_TRACES_EXPORTER): every call carries a trace context, so the
  // histories hold the headers and the traced update handlers' spans the replay must reproduce. No exporter.
  const provider = new node.NodeTracerProvider();
  before(() => provider.register());

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  /**
   * The history in protobuf's binary form. (The JSON form other Temporal tools write does not load here:
   * historyFromJSON trips over the second protobufjs copy @temporalio/common brings.)
   */
  const workflowIds: Record<string, string> = {};
  async function save(name: string, workflowId: string) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    await mkdir(OUT, { recursive: true });
    const file = `${PREFIX}${name}.binpb`;
    await writeFile(path.join(OUT, file), temporal.api.history.v1.History.encode(history).finish());
    // Replay needs the workflow id too (a child's id is derived from its parent's).
    workflowIds[file] = workflowId;
  }

  it('runs every workflow kind once and writes its history', async () => {
    const stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600', BACKUP_RETENTION_DAYS: '0' });
    worker = await startWorker(fx.config);
    const storage = createStorageClient(fx.config.storage);
    api = await listen(
      createApp({
        config: fx.config,
        client,
        storage,
        accounts: fx.accounts,
        audit: new StorageAuditLog(storage, fx.config.storage.defaultBucket),
      }),
      fx.apiPort,
    );

    // reseller-account: a reseller, an organization and a key.
    const reseller = await fx.accounts.createReseller({ name: 'Replay MSP' });
    const organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Replay Org' })).id;
    const key = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${api.baseUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.status < 300, `${method} ${url}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    // storage-probe.
    const probe = await client.workflow.start(storageProbeWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `storage-probe-replay-${Date.now()}`,
      args: [{ bucket: fx.config.storage.defaultBucket }],
    });
    await probe.result();

    // tenant: added, consent granted (first backup right after), plan changed, consent revoked, Backup now refused
    // by the tenant (reauthorization), consent given again.
    const ms = fx.sim.control.createTenant({ users: 20, consentMode: 'accept' });
    const { tenantId } = await call('POST', '/tenants', {
      organizationId,
      directory: ms.id,
      storageLocationId: fx.config.storage.locations[0].id,
      plan: 'backup',
      backupImmediately: true,
    });
    const consent = async () => {
      const { consentUrl } = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
      const microsoft = await fetch(consentUrl, { redirect: 'manual' });
      const back = await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
      assert.equal(back.status, 200);
    };
    await consent();
    const active = await waitFor('first backup', async () => {
      const t = await call('GET', `/tenants/${tenantId}`);
      return t.status === 'active' && t.lastBackup?.status === 'completed' ? t : undefined;
    });
    const backupId: string = active.lastBackup.workflowId;
    const retentionId = `retention:${tenantId}:${backupId}`;
    await client.workflow.getHandle(backupId).result(); // it starts retention after telling the tenant
    await client.workflow.getHandle(retentionId).result();
    await call('PUT', `/tenants/${tenantId}/plan`, { plan: 'archiver' });

    fx.sim.control.revokeConsent(ms.id, BACKUP_APP.clientId, 'servicePrincipal');
    const refused = (await call('POST', `/tenants/${tenantId}/backups`)) as { workflowId: string };
    await client.workflow.getHandle(refused.workflowId).result();
    await waitFor('reauthorization required', async () => {
      const t = await call('GET', `/tenants/${tenantId}`);
      return t.status === 'reauthorization-required' && t.schedulePaused ? t : undefined;
    });
    await consent();
    await waitFor('active again', async () => {
      const t = await call('GET', `/tenants/${tenantId}`);
      return t.status === 'active' && !t.schedulePaused ? t : undefined;
    });

    // export (with its cleanup, still waiting for the link to expire: a history in progress replays too) and verify.
    const exported = (await call('POST', `/tenants/${tenantId}/exports`, { level: 'tenant' })) as {
      jobId: string;
      workflowId: string;
    };
    await client.workflow.getHandle(exported.workflowId).result();
    const verified = (await call('POST', `/tenants/${tenantId}/verifications`, {})) as { workflowId: string };
    await client.workflow.getHandle(verified.workflowId).result();

    // restore: the Restore app consented for good; a user changed in the tenant is put back after confirmation.
    const { consentUrl: restoreConsentUrl } = await call('POST', `/tenants/${tenantId}/consent-requests`, {
      app: 'restore',
      mode: 'permanent',
    });
    const microsoft = await fetch(restoreConsentUrl, { redirect: 'manual' });
    await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
    await waitFor('restore consent', async () => {
      const t = await call('GET', `/tenants/${tenantId}`);
      return t.restoreApp?.state === 'granted' ? t : undefined;
    });
    const user = fx.sim.control.listObjects(ms.id, 'user', { limit: 1 })[0];
    fx.sim.control.updateObject(ms.id, user.id, { jobTitle: 'Changed after the backup' });
    const restore = (await call('POST', `/tenants/${tenantId}/restores`, {
      snapshotId: active.lastBackup.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    })) as { restoreId: string };
    const restoreState = (statuses: string[]) =>
      waitFor(`restore ${statuses.join('/')}`, async () => {
        const r = await call('GET', `/tenants/${tenantId}/restores/${restore.restoreId}`);
        return statuses.includes(r.status) ? r : undefined;
      });
    const planned = await restoreState(['awaiting-confirmation']);
    await call('POST', `/tenants/${tenantId}/restores/${restore.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    assert.equal((await restoreState(['completed', 'partly-completed', 'failed'])).status, 'completed');

    await save('storage-probe', probe.workflowId);
    await save('reseller-account', resellerAccountWorkflowId(reseller.id));
    await save('tenant', tenantWorkflowId(tenantId));
    await save('tenant-backup', backupId);
    await save('tenant-backup-reauthorization', refused.workflowId);
    await save('retention', retentionId);
    await save('export', exported.workflowId);
    await save('export-cleanup', exportCleanupWorkflowId(tenantId, exported.jobId));
    await save('verify', verified.workflowId);
    await save('restore', `restore:${tenantId}`);
    const idsFile = path.join(OUT, 'workflow-ids.json');
    const known = JSON.parse(await readFile(idsFile, 'utf8').catch(() => '{}')) as Record<string, string>;
    const ids = Object.fromEntries(Object.entries({ ...known, ...workflowIds }).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(idsFile, `${JSON.stringify(ids, null, 2)}\n`);
  });
});
