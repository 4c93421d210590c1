/**
 * Many small tenants backed up by one worker process: the figures of `npm run bench -- --tenants N` and the
 * assertions of test/integration/many-tenants.test.ts. The worker runs in its own process (as in production) so its
 * resident memory is its own; the Entra simulator runs in this one.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { requiredReadPermissions } from '../catalog';
import { startSimulator } from '../simulator';
import { tenantBackupWorkflow } from '../workflows';
import { locatedStorage, type BackupTarget } from '../tenants/types';
import { freePort } from '../devstack/ports';
import { startStack, stopStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { buildWorkflowBundle } from './build-workflows';
import { startTargetTenantWorkflow } from './tenant-workflow';
import { stopProcess } from './stop-process';

export interface ManyTenantsOptions {
  /** The stack to use (Temporal address, storage endpoint and bucket). */
  stack: AppConfig;
  tenants: number;
  users: number;
  /** Backups running at once (the daily schedules of many tenants overlap this much). Default 4. */
  concurrency?: number;
  /** Memory is compared after this many tenants and at the end. Default min(50, tenants / 4). */
  warmupTenants?: number;
  latency?: { baseMs: number; jitterMs: number };
  workerHeapMb?: number;
  log?: (line: string) => void;
}

export interface ManyTenantsFigures {
  tenants: number;
  usersPerTenant: number;
  completed: number;
  failures: string[];
  seconds: number;
  tenantsPerHour: number;
  workerPeakRssMb: number;
  /** Resident memory once `warmupTenants` had completed, and after the last one. */
  workerRssAfterWarmupMb: number;
  workerRssEndMb: number;
  warmupTenants: number;
}

export async function runManyTenants(options: ManyTenantsOptions): Promise<ManyTenantsFigures> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 4;
  const warmupTenants = options.warmupTenants ?? Math.max(1, Math.min(50, Math.floor(options.tenants / 4)));
  const app = { clientId: '6b1d4c1e-8f34-4a7e-9d57-b3c0a1e2f0aa', secret: `many-${randomBytes(12).toString('hex')}` };
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-many-'));
  const sim = await startSimulator({ seed: 4711 });
  let client: Client | undefined;
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    sim.control.registerApp({
      clientId: app.clientId,
      displayName: 'entra-backup many tenants',
      secret: app.secret,
      requiredRoles: requiredReadPermissions(),
    });
    if (options.latency) sim.control.setLatency(options.latency);
    log(`generating ${options.tenants} tenants of ${options.users} users`);
    const directories = Array.from(
      { length: options.tenants },
      (_, i) => sim.control.createTenant({ users: options.users, seed: 100 + i, consentTo: [app.clientId] }).id,
    );

    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: options.stack.temporal.address,
      TEMPORAL_NAMESPACE: options.stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: `many-tenants-${randomBytes(4).toString('hex')}`,
      STORAGE_API_ENDPOINT: options.stack.storage.apiEndpoint ?? 'gcs',
      ENTRA_AUTHORITY_HOST: sim.authorityHost,
      ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
      ENTRA_BACKUP_APP_CLIENT_ID: app.clientId,
      ENTRA_BACKUP_APP_CLIENT_SECRET: app.secret,
      NODE_EXTRA_CA_CERTS: sim.caCertPath,
      WORKFLOW_BUNDLE_PATH: await buildWorkflowBundle(path.join(workDir, 'workflow-bundle.js')),
      // As the benchmark runs it (README "Benchmark"): freed pages of Node's threads' arenas stay resident otherwise.
      MALLOC_ARENA_MAX: '2',
      // No /metrics (port 0): the production default 9464 may be held by another worker on this machine.
      WORKER_METRICS_PORT: '0',
    };
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENTRA_'))),
      ...env,
    });
    worker = spawn(
      process.execPath,
      [
        `--max-old-space-size=${options.workerHeapMb ?? 256}`,
        '--import',
        'tsx',
        path.resolve(__dirname, '../worker/main.ts'),
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // The worker logs every state change; only its warnings and errors are worth showing here.
    worker.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (/\b(WARN|ERROR)\b|Error:/.test(chunk)) process.stderr.write(chunk);
    });
    const workerPid = worker.pid!;
    client = await connectClient(config.temporal);

    const failures: string[] = [];
    const tenantWorkflows: WorkflowHandle[] = [];
    let completed = 0;
    let rssAfterWarmup = 0;
    const started = Date.now();
    const backupOne = async (directory: string) => {
      const target: BackupTarget = {
        tenantId: randomUUID(),
        resellerId: 'many-tenants',
        organizationId: 'many-tenants',
        directory,
        storage: locatedStorage(config.storage.locations[0]),
      };
      // Retention asks the tenant's workflow for its plan: it stays up until the end of the run.
      const tenantHandle = await startTargetTenantWorkflow(client!, config.temporal.taskQueue, target, {
        consentTimeoutMs: 3_600_000,
      });
      tenantWorkflows.push(tenantHandle);
      let outcome: string | undefined;
      try {
        const result = await client!.workflow.execute(tenantBackupWorkflow, {
          taskQueue: config.temporal.taskQueue,
          workflowId: `backup:${target.tenantId}:${randomUUID()}`,
          args: [target],
        });
        if (result.status !== 'completed') outcome = `${result.status} (${result.skippedTypes.join(', ')})`;
      } catch (err) {
        outcome = err instanceof Error ? err.message : String(err);
      }
      if (outcome === undefined) completed++;
      else failures.push(`${directory}: ${outcome}`);
      const done = completed + failures.length;
      if (done === warmupTenants) rssAfterWarmup = rssMb(workerPid, 'VmRSS');
      if (done % 10 === 0 || done === options.tenants) {
        log(`${done}/${options.tenants} tenants, worker RSS ${rssMb(workerPid, 'VmRSS').toFixed(0)} MB`);
      }
    };
    const lanes = pLimit(concurrency);
    await Promise.all(directories.map((directory) => lanes(() => backupOne(directory))));
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(tenantWorkflows.map((h) => h.terminate('many-tenants run over').catch(() => undefined)));
    return {
      tenants: options.tenants,
      usersPerTenant: options.users,
      completed,
      failures,
      seconds: round(seconds),
      tenantsPerHour: round((completed / seconds) * 3600, 0),
      workerPeakRssMb: round(rssMb(workerPid, 'VmHWM'), 0),
      workerRssAfterWarmupMb: round(rssAfterWarmup, 0),
      workerRssEndMb: round(rssMb(workerPid, 'VmRSS'), 0),
      warmupTenants,
    };
  } finally {
    if (worker) await stopProcess(worker);
    await client?.connection.close();
    await sim.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Resident memory of a process, in MB: VmHWM is the peak, VmRSS the current (Linux /proc). */
function rssMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1]);
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`no ${field} for process ${pid}`);
  return kb / 1024;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/**
 * `npm run bench -- --tenants N [--users 500] [--latency-ms 80] [--jitter-ms 40]`: N tenants through one worker on
 * a stack of its own; prints a table, then one line of JSON with tenantsPerHour and workerPeakRssMb.
 */
export async function benchManyTenants(input: {
  tenants: number;
  users: number;
  latency: { baseMs: number; jitterMs: number };
}): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-bench-'));
  const [temporalPort, temporalUiPort, gcsPort] = [await freePort(), await freePort(), await freePort()];
  const stack = loadConfig({
    ...process.env,
    ENTRA_BACKUP_DATA_DIR: dataDir,
    LOCAL_TEMPORAL_PORT: String(temporalPort),
    LOCAL_TEMPORAL_UI_PORT: String(temporalUiPort),
    LOCAL_GCS_PORT: String(gcsPort),
  });
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  try {
    log(`starting the stack in ${dataDir}`);
    await startStack({ ...stack.local, namespace: stack.temporal.namespace });
    await ensureBucket(stack.storage, stack.storage.defaultBucket);
    const figures = await runManyTenants({
      stack,
      tenants: input.tenants,
      users: input.users,
      latency: input.latency,
      log,
    });
    console.log(`
entra-backup benchmark — ${input.tenants} tenants of ${input.users} users, one worker, 4 backups at a time
latency model: ${input.latency.baseMs} ms + up to ${input.latency.jitterMs} ms per request

| figure                          | value |
| ------------------------------- | ----- |
| tenants completed               | ${figures.completed} / ${figures.tenants} |
| tenants per hour                | ${figures.tenantsPerHour} |
| worker peak RSS                 | ${figures.workerPeakRssMb} MB (target ≤ 500) |
| worker RSS after ${String(figures.warmupTenants).padEnd(3)} tenants     | ${figures.workerRssAfterWarmupMb} MB |
| worker RSS at the end           | ${figures.workerRssEndMb} MB (target: no growth after the first 50) |
`);
    for (const failure of figures.failures) console.log(`failed: ${failure}`);
    console.log(JSON.stringify({ ...figures, failures: figures.failures.length }));
  } finally {
    await stopStack(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
