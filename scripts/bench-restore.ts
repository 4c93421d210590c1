/**
 * `npm run bench:restore -- [--users 2000] [--damaged 200] [--latency-ms 20]`
 *
 * The recovery-fidelity benchmark: backs up a simulated tenant through the real stack (Temporal dev server, GCS
 * emulator, the Entra simulator with Microsoft's throttle budget and a latency model), damages `--damaged` users
 * (a third attributes changed, a third soft-deleted, a third hard-deleted) and the groups they belonged to, restores
 * them from the snapshot through the API (plan, confirmation, apply, read-back) and prints a table, then one line of
 * JSON with restoreFidelity, restoreObjectsPerMinute and restoreWriteRequests. Figures, not assertions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../temporal.config';
import { freePort } from '../devstack/ports';
import { startStack, stopStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { createStorageClient } from '../storage/gcs-client';
import { connectClient } from '../temporal/connection';
import { requiredReadPermissions, requiredWritePermissions } from '../catalog';
import { startSimulator, type Simulator } from '../simulator';
import { createWorker } from '../worker/create-worker';
import { createApp } from '../api/app';
import { apiDependencies } from '../api/dependencies';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/* eslint-disable @typescript-eslint/no-explicit-any */

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '2000' },
      damaged: { type: 'string', default: '200' },
      'latency-ms': { type: 'string', default: '20' },
    },
  });
  const users = Number(values.users);
  const damaged = Number(values.damaged);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-bench-restore-'));
  const [temporalPort, temporalUiPort, gcsPort, apiPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const stackEnv = {
    ENTRA_BACKUP_DATA_DIR: dataDir,
    LOCAL_TEMPORAL_PORT: String(temporalPort),
    LOCAL_TEMPORAL_UI_PORT: String(temporalUiPort),
    LOCAL_GCS_PORT: String(gcsPort),
    TEMPORAL_TASK_QUEUE: 'entra-backup-bench-restore',
  };
  const base = loadConfig({ ...process.env, ...stackEnv });
  let sim: Simulator | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    log(`starting the stack in ${dataDir}`);
    await startStack({ ...base.local, namespace: base.temporal.namespace });
    await ensureBucket(base.storage, base.storage.defaultBucket);
    sim = await startSimulator({ seed: 2026 });
    const apps = {
      backup: { clientId: '6b1d4c1e-8f34-4a7e-9d57-b3c0a1e2f011', secret: randomBytes(12).toString('hex') },
      restore: { clientId: '6b1d4c1e-8f34-4a7e-9d57-b3c0a1e2f012', secret: randomBytes(12).toString('hex') },
    };
    const redirectUri = `http://127.0.0.1:${apiPort}/consent/callback`;
    sim.control.registerApp({
      clientId: apps.backup.clientId,
      displayName: 'bench Backup app',
      secret: apps.backup.secret,
      redirectUris: [redirectUri],
      requiredRoles: requiredReadPermissions(),
    });
    sim.control.registerApp({
      clientId: apps.restore.clientId,
      displayName: 'bench Restore app',
      secret: apps.restore.secret,
      redirectUris: [redirectUri],
      requiredRoles: requiredWritePermissions(),
    });
    const config = loadConfig({
      ...process.env,
      ...stackEnv,
      API_PORT: String(apiPort),
      ENTRA_AUTHORITY_HOST: sim.authorityHost,
      ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
      ENTRA_BACKUP_APP_CLIENT_ID: apps.backup.clientId,
      ENTRA_BACKUP_APP_CLIENT_SECRET: apps.backup.secret,
      ENTRA_RESTORE_APP_CLIENT_ID: apps.restore.clientId,
      ENTRA_RESTORE_APP_CLIENT_SECRET: apps.restore.secret,
      CONSENT_STATE_KEY: randomBytes(32).toString('base64'),
    });
    const client = await connectClient(config.temporal);
    cleanups.push(() => client.connection.close());
    const storage = createStorageClient(config.storage);
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const worker = await createWorker(connection, config, { config, storage, temporal: client });
    const running = worker.run();
    cleanups.push(async () => {
      worker.shutdown();
      await running;
      await connection.close();
    });
    const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
    const app = createApp(apiDependencies(config, client, { storage, accounts }));
    const server = app.listen(apiPort, '127.0.0.1');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const reseller = await accounts.createReseller({ name: 'bench' });
    const organizationId = (await accounts.createOrganization(reseller.id, { name: 'bench' })).id;
    const key = (await accounts.createApiKey(reseller.id)).apiKey;
    const call = async (method: string, url: string, body?: unknown): Promise<any> => {
      const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as any;
      if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const admin = async (consentUrl: string) => {
      const microsoft = await fetch(consentUrl, { redirect: 'manual' });
      await fetch(microsoft.headers.get('location')!, { headers: { accept: 'application/json' } });
    };
    const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 1_800_000) => {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
        const v = await probe();
        if (v !== undefined) return v;
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    log(`generating a tenant of ${users.toLocaleString()} users`);
    const ms = sim.control.createTenant({ users, seed: 7, consentMode: 'accept' });
    sim.control.setLatency({ baseMs: Number(values['latency-ms']), jitterMs: 0 });
    const { tenantId } = await call('POST', '/tenants', {
      organizationId,
      directory: ms.id,
      // The service chooses bucket and prefix from a named storage location (POST /tenants refuses `storage`).
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: true,
    });
    await admin((await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' })).consentUrl);
    const t = await until('the backup', async () => {
      const t = await call('GET', `/tenants/${tenantId}`);
      return t.lastBackup?.status === 'completed' ? t : undefined;
    });
    await admin(
      (await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'restore', mode: 'permanent' })).consentUrl,
    );
    await until('restore consent', async () =>
      (await call('GET', `/tenants/${tenantId}`)).restoreApp.state === 'granted' ? true : undefined,
    );

    log(`damaging ${damaged} users and their groups`);
    const c = sim.control;
    const victims = c
      .listObjects(ms.id, 'user', { limit: users })
      .filter((u) => !String(u.data.userPrincipalName).includes('#'))
      .slice(0, damaged)
      .map((u) => u.id);
    const groups = c.listObjects(ms.id, 'group', { limit: 100_000 });
    const affected = new Set<string>();
    for (const g of groups) if (c.listMembers(ms.id, g.id).some((m) => victims.includes(m))) affected.add(g.id);
    victims.forEach((id, i) => {
      if (i % 3 === 0) c.updateObject(ms.id, id, { jobTitle: 'Damaged', department: 'Damaged' });
      else c.deleteObject(ms.id, id, { hard: i % 3 === 2 });
    });
    const objects = [
      ...victims.map((id) => ({ type: 'users', id })),
      ...[...affected].map((id) => ({ type: 'groups', id })),
    ];

    const requestedAt = Date.now();
    const started = await call('POST', `/tenants/${tenantId}/restores`, {
      snapshotId: t.lastBackup.snapshotId,
      objects,
    });
    const planned = await until('the plan', async () => {
      const r = await call('GET', `/tenants/${tenantId}/restores/${started.restoreId}`);
      return r.status === 'awaiting-confirmation' ? r : undefined;
    });
    const planSeconds = (Date.now() - requestedAt) / 1000;
    const confirmedAt = Date.now();
    await call('POST', `/tenants/${tenantId}/restores/${started.restoreId}/confirmation`, {
      planHash: planned.plan.hash,
    });
    const done = await until('the restore', async () => {
      const r = await call('GET', `/tenants/${tenantId}/restores/${started.restoreId}`);
      return ['completed', 'partly-completed', 'failed'].includes(r.status) ? r : undefined;
    });
    const applySeconds = (Date.now() - confirmedAt) / 1000;
    const graphWrites = sim.control
      .requestLog({ tenantId: ms.id, appId: apps.restore.clientId, kind: 'graph' })
      .filter((e) => e.method !== 'GET').length;
    const fidelity = done.report.fidelity as { restorable: number; restored: number };
    const figures = {
      users,
      damagedUsers: damaged,
      objects: objects.length,
      status: done.status,
      planSeconds: Number(planSeconds.toFixed(1)),
      applyAndVerifySeconds: Number(applySeconds.toFixed(1)),
      restoreFidelity: fidelity.restorable > 0 ? Number((fidelity.restored / fidelity.restorable).toFixed(4)) : null,
      restorableMeasured: fidelity.restorable,
      restoreObjectsPerMinute: Number(((objects.length / applySeconds) * 60).toFixed(1)),
      restoreWriteRequests: done.report.writeRequests as number,
      graphWriteRequestsSeen: graphWrites,
      counts: planned.plan.counts,
    };
    log('');
    for (const [k, v] of Object.entries(figures))
      log(`${k.padEnd(26)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await sim?.close();
    await stopStack(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
