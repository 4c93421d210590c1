import type { LatencyModel } from '../../simulator';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../../temporal.config';
import { freePort } from '../../devstack/ports';
import { startStack, stopStack } from '../../devstack/local-stack';
import { ensureBucket } from '../../devstack/buckets';
import { connectClient } from '../../temporal/connection';
import { requiredReadPermissions } from '../../catalog';
import { startSimulator, type Simulator, type TenantSummary } from '../../simulator';
import { tenantQuery } from '../../workflows';
import { locatedStorage, tenantWorkflowId, type BackupTarget } from '../../tenants/types';
import { buildWorkflowBundle } from '../build-workflows';
import { log } from './log';
import { stopProcess } from '../stop-process';
import { startTargetTenantWorkflow } from '../tenant-workflow';

export const BACKUP_APP = { clientId: '6b1d4c1e-8f34-4a7e-9d57-b3c0a1e2f001', secret: `bench-${randomUUID()}` };

export interface BenchStackOptions {
  users: number;
  latency: LatencyModel;
  fullReadEvery: string;
  workerHeapMb: string;
  workerSemiSpaceMb: string;
  workerMallocArenas: string;
  workerCpuProfileDir?: string;
}

/** What the measurement runs against: the whole stack, a simulated tenant and its tenant workflow, a worker process. */
export interface BenchStack {
  sim: Simulator;
  tenant: TenantSummary;
  worker: ChildProcess;
  client: Client;
  config: AppConfig;
  target: BackupTarget;
  pids: { worker: number; temporal: number; storage: number };
  /** Stops the worker and starts a fresh one (a measurement whose peak memory must be its own). */
  restartWorker(): Promise<ChildProcess>;
}

/**
 * Starts the stack in a temporary folder (Temporal dev server, GCS emulator, the Entra simulator with a tenant of
 * `users` users), a worker in its own process, and the tenant's workflow; `use` runs once a worker answers; then
 * everything is stopped and the folder removed, whatever `use` did.
 */
export async function withBenchStack(options: BenchStackOptions, use: (stack: BenchStack) => Promise<void>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-bench-'));
  const [temporalPort, temporalUiPort, gcsPort] = [await freePort(), await freePort(), await freePort()];
  const stackEnv = {
    ENTRA_BACKUP_DATA_DIR: dataDir,
    LOCAL_TEMPORAL_PORT: String(temporalPort),
    LOCAL_TEMPORAL_UI_PORT: String(temporalUiPort),
    LOCAL_GCS_PORT: String(gcsPort),
    TEMPORAL_TASK_QUEUE: 'entra-backup-bench',
  };
  const base = loadConfig({ ...process.env, ...stackEnv });
  let sim: Simulator | undefined;
  let worker: ChildProcess | undefined;
  let client: Client | undefined;
  try {
    log(`starting the stack in ${dataDir}`);
    const stack = await startStack({ ...base.local, namespace: base.temporal.namespace });
    await ensureBucket(base.storage, base.storage.defaultBucket);

    sim = await startSimulator({ seed: 2026 });
    sim.control.registerApp({
      clientId: BACKUP_APP.clientId,
      displayName: 'entra-backup bench',
      secret: BACKUP_APP.secret,
      requiredRoles: requiredReadPermissions(),
    });
    log(`generating a tenant of ${options.users.toLocaleString()} users`);
    const generatedAt = Date.now();
    const tenant = sim.control.createTenant({ users: options.users, seed: 7, consentTo: [BACKUP_APP.clientId] });
    log(`  generated in ${((Date.now() - generatedAt) / 1000).toFixed(1)} s: ${JSON.stringify(tenant.counts)}`);
    sim.control.setLatency(options.latency);

    // As in production: the worker loads a prebuilt workflow bundle instead of bundling at start.
    const bundle = await buildWorkflowBundle(path.join(dataDir, 'workflow-bundle.js'));
    const env = {
      ...stackEnv,
      // Isolated like the stack's ports: not the production default 9464, which another worker may hold.
      WORKER_METRICS_PORT: '0',
      WORKFLOW_BUNDLE_PATH: bundle,
      ENTRA_AUTHORITY_HOST: sim.authorityHost,
      ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
      ENTRA_BACKUP_APP_CLIENT_ID: BACKUP_APP.clientId,
      ENTRA_BACKUP_APP_CLIENT_SECRET: BACKUP_APP.secret,
      BACKUP_FULL_READ_EVERY: options.fullReadEvery,
      // The benchmark's days are seconds apart and the simulator's audit records appear at once: the production margin
      // (15 minutes re-read out of a 24-hour day) would re-read every earlier day here. 1 s is that margin's share.
      BACKUP_AUDIT_LOG_LATENCY_SECONDS: '1',
      NODE_EXTRA_CA_CERTS: sim.caCertPath,
    };
    const config = loadConfig({ ...process.env, ...env });
    const nodeFlags = [`--max-old-space-size=${options.workerHeapMb}`];
    if (options.workerSemiSpaceMb !== '0') nodeFlags.push(`--max-semi-space-size=${options.workerSemiSpaceMb}`);
    const profileDir = options.workerCpuProfileDir;
    if (profileDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`);
    const spawnWorker = () =>
      spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path.resolve(__dirname, '../../worker/main.ts')], {
        env: {
          ...process.env,
          ...env,
          ...(options.workerMallocArenas !== '0' ? { MALLOC_ARENA_MAX: options.workerMallocArenas } : {}),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    worker = spawnWorker();
    client = await connectClient(config.temporal);

    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId: 'bench',
      organizationId: 'bench',
      directory: tenant.id,
      storage: locatedStorage(config.storage.locations[0]),
    };
    await startTargetTenantWorkflow(client, config.temporal.taskQueue, target, { consentTimeoutMs: 3_600_000 });

    // Time the backup, not the worker's start: a production worker is up long before the daily backup. A query is
    // answered only once a worker polls.
    const tenantHandle = client.workflow.getHandle(tenantWorkflowId(target.tenantId));
    for (const deadline = Date.now() + 120_000; ;) {
      try {
        await tenantHandle.query(tenantQuery);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const pids = { worker: worker.pid!, temporal: stack.record.temporal.pid, storage: stack.record.gcs.pid };
    const restartWorker = async () => {
      const stopping = new Promise((resolve) => worker!.once('exit', resolve));
      worker!.kill('SIGTERM');
      await stopping;
      worker = spawnWorker();
      return worker;
    };
    await use({ sim, tenant, worker, client, config, target, pids, restartWorker });
  } finally {
    // A worker the export's measurement killed (out of memory) has ended already.
    if (worker) await stopProcess(worker);
    await client?.connection.close();
    await sim?.close();
    await stopStack(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
