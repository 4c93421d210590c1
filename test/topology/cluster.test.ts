import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { connectClient } from '../../temporal/connection';
import { freePort } from '../../devstack/ports';
import type { TemporalProfile } from '../../devstack/local-stack';
import { tenantQuery } from '../../workflows';
import { tenantWorkflowId, type BackupTarget } from '../../tenants/types';
import { buildWorkflowBundle } from '../../scripts/build-workflows';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/http';
import { startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { backupFixture, comparedTypes, startWorkerProcess } from '../helpers/backup-fixture';
import { startApiProcess, type ApiProcess } from '../helpers/api-process';

/**
 * The product scaled out as operators run it: two worker processes and two API processes (no balancer in front: the
 * test alternates between them) on a self-hosted Temporal cluster on PostgreSQL. Several tenants back up at once; one
 * worker is SIGKILLed while it holds a backup's activity and one API replica is stopped mid-run. TOPOLOGY_TEMPORAL=dev
 * runs the same test on the dev server, so the two stay comparable.
 */
const PROFILE = (process.env.TOPOLOGY_TEMPORAL ?? 'cluster') as TemporalProfile;
const TENANTS = Number(process.env.TOPOLOGY_TENANTS ?? 4);
const USERS = Number(process.env.TOPOLOGY_USERS ?? 1000);

type Worker = ReturnType<typeof startWorkerProcess>;

describe(`topology: 2 workers and 2 API replicas on ${PROFILE === 'cluster' ? 'a Temporal cluster on PostgreSQL' : "Temporal's dev server"}`, () => {
  let stack: TestStack | undefined;
  let client: Client | undefined;
  let fx: TenantFixture | undefined;
  let workDir: string | undefined;
  const workers: Worker[] = [];
  const apis: ApiProcess[] = [];
  let apiKey: string;
  let organizationId: string;
  let setupSeconds = 0;

  before(async function () {
    this.timeout(300_000);
    const started = Date.now();
    stack = await startTestStack(PROFILE);
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, {
      BACKUP_CHECKPOINT_SECONDS: '0',
      BACKUP_HEARTBEAT_TIMEOUT_SECONDS: '3',
      CONSENT_TIMEOUT_SECONDS: '600',
    });
    // One bundle for both workers: bundling at start would cost each of them CPU this machine shares.
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-topology-'));
    const env = {
      ...fx.env,
      WORKFLOW_BUNDLE_PATH: await buildWorkflowBundle(path.join(workDir, 'workflow-bundle.js')),
      // Both replicas are one service to the outside: Microsoft redirects the admin to the one public address.
      API_PUBLIC_URL: `http://127.0.0.1:${fx.apiPort}`,
    };
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    apis.push(await startApiProcess(env), await startApiProcess({ ...env, API_PORT: String(await freePort()) }));
    const reseller = await fx.accounts.createReseller({ name: 'Topology MSP' });
    organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Topology customers' })).id;
    apiKey = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    setupSeconds = (Date.now() - started) / 1000;
  });

  after(async function () {
    this.timeout(120_000);
    for (const api of apis) await api.stop();
    for (const worker of workers) await worker.stop();
    await fx?.sim.close();
    await client?.connection.close();
    await stack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** Who answered what: calls per replica, and calls a stopped replica refused (then answered by the other). */
  const answered = [0, 0];
  let refusedByStopped = 0;
  let turn = 0;

  /**
   * A client without a balancer: calls alternate between the replicas. A call to a replica the test has stopped
   * fails to connect and goes to the other one; any other failure, and any 5xx, fails the test.
   */
  async function call(method: string, urlPath: string, body?: unknown): Promise<Response> {
    for (let tries = 0; tries < apis.length; tries++) {
      const i = turn++ % apis.length;
      let res: Response;
      try {
        res = await fetch(`${apis[i].baseUrl}${urlPath}`, {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (!apis[i].stopped)
          throw new Error(`API replica ${i + 1} (running) did not answer ${method} ${urlPath}`, { cause: err });
        refusedByStopped++;
        continue;
      }
      assert.ok(
        res.status < 500,
        `${method} ${urlPath} answered ${res.status} by replica ${i + 1}: ${await res.clone().text()}`,
      );
      answered[i]++;
      return res;
    }
    throw new Error(`no API replica answered ${method} ${urlPath}`);
  }

  const tenantRecord = async (tenantId: string) =>
    (await (await call('GET', `/tenants/${tenantId}`)).json()) as {
      status: string;
      lastBackup?: { workflowId: string; status: string; snapshotId?: string };
    };

  /** Added through the API, consent given by the simulated admin, the callback answered by whichever replica. */
  async function addConsentedTenant(): Promise<BackupTarget> {
    const directory = fx!.sim.control.createTenant({ users: USERS, consentMode: 'accept' }).id;
    const created = await call('POST', '/tenants', {
      organizationId,
      directory,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: false,
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { tenantId } = (await created.json()) as { tenantId: string };
    const requested = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
    assert.equal(requested.status, 201, await requested.clone().text());
    const { consentUrl } = (await requested.json()) as { consentUrl: string };
    const redirect = new URL((await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!);
    const callback = await call('GET', `${redirect.pathname}${redirect.search}`);
    assert.equal(callback.status, 200, await callback.clone().text());
    await waitFor(
      'the tenant to become active',
      async () => ((await tenantRecord(tenantId)).status === 'active' ? true : undefined),
      60_000,
    );
    const record = await client!.workflow.getHandle(tenantWorkflowId(tenantId)).query(tenantQuery);
    const { resellerId, storage } = record;
    return { tenantId, resellerId, organizationId: record.organizationId, directory: record.directory, storage };
  }

  it('completes every backup with no object lost or twice, every API call answered by a running replica', async function () {
    this.timeout(600_000);
    const started = Date.now();
    const [w1] = workers;
    const targets = await Promise.all(Array.from({ length: TENANTS }, () => addConsentedTenant()));
    const backupSeconds = { added: (Date.now() - started) / 1000, killed: 0, finished: 0 };
    // Slow Graph a little so the backups are still reading when the worker dies.
    fx!.sim.control.setLatency({ baseMs: 30, jitterMs: 20 });
    let runs: WorkflowHandle[];
    let killedActivities: string[];
    try {
      // Backup now through the API, the replicas taking turns (each run starts through the tenant's schedule, with
      // the 3 s heartbeat timeout BACKUP_HEARTBEAT_TIMEOUT_SECONDS wrote into it: with the product's minute the
      // killed worker's activities would only be retried a minute later, which proves nothing more).
      runs = await Promise.all(
        targets.map(async (target) => {
          const res = await call('POST', `/tenants/${target.tenantId}/backups`);
          assert.equal(res.status, 202, await res.clone().text());
          const { workflowId } = (await res.json()) as { workflowId: string };
          return client!.workflow.getHandle(workflowId);
        }),
      );
      // Kill worker 1 while it runs a paging activity of one of the backups: one that has heartbeated (the SDK's
      // identity is pid@host), so its retry on worker 2 comes after the heartbeat timeout, and from its checkpoint.
      killedActivities = await waitFor(
        'worker 1 to run a backup activity',
        async () => {
          const held: string[] = [];
          for (const run of runs) {
            for (const a of (await run.describe()).raw.pendingActivities ?? []) {
              if (
                a.lastWorkerIdentity?.startsWith(`${w1.pid}@`) &&
                a.state === proto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
                a.lastHeartbeatTime
              )
                held.push(a.activityType?.name ?? '?');
            }
          }
          return held.length > 0 ? held : undefined;
        },
        120_000,
        100,
      );
      backupSeconds.killed = (Date.now() - started) / 1000;
      w1.kill('SIGKILL');
      await new Promise((resolve) => w1.once('exit', resolve));
    } finally {
      fx!.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
    // Replica 2 goes away while the backups still run; calls keep alternating and must be answered by replica 1.
    await call('GET', `/tenants/${targets[0].tenantId}`);
    await apis[1].stop();

    const outcomes = await waitFor(
      'every backup to finish, as the API shows it',
      async () => {
        const records = [];
        for (let i = 0; i < targets.length; i++) {
          const last = (await tenantRecord(targets[i].tenantId)).lastBackup;
          if (last?.workflowId !== runs[i].workflowId || last.status === 'running') return undefined;
          records.push(last);
        }
        return records;
      },
      300_000,
      500,
    );
    backupSeconds.finished = (Date.now() - started) / 1000;
    const backups = backupFixture(stack!, client!, fx!);
    for (let i = 0; i < targets.length; i++) {
      assert.equal(outcomes[i].status, 'completed', await backups.skippedDetail(targets[i], outcomes[i].snapshotId));
      const listed = await (await call('GET', `/tenants/${targets[i].tenantId}/snapshots`)).text();
      assert.ok(listed.includes(outcomes[i].snapshotId!), `the API lists snapshot ${outcomes[i].snapshotId}`);
    }
    // Object for object against the simulated tenants, all four at once (reading each object back is the slow part).
    const counts = await Promise.all(
      targets.map((target, i) => backups.assertSnapshotEqualsTenant(target, outcomes[i].snapshotId!, comparedTypes)),
    );
    const objects = counts.reduce((a, b) => a + b, 0);
    assert.ok(refusedByStopped > 0, 'calls went to the stopped replica and were answered by the other');
    console.log(
      `topology (${PROFILE}): stack and 4 processes up in ${setupSeconds.toFixed(1)} s; ${TENANTS} tenants of ` +
        `${USERS} users added and consented through the API in ${backupSeconds.added.toFixed(1)} s, backed up at once ` +
        `by ${backupSeconds.finished.toFixed(1)} s with worker 1 killed at ${backupSeconds.killed.toFixed(1)} s ` +
        `holding ${killedActivities.join(', ')} and API replica 2 stopped then; ${objects} objects equal the tenants, ` +
        `none missing or twice (checked by ${((Date.now() - started) / 1000).toFixed(1)} s); API calls answered ${answered[0]} by replica 1, ${answered[1]} by replica 2, ` +
        `${refusedByStopped} refused by the stopped replica and answered by the other`,
    );
  });
});
