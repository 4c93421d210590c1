/**
 * `npm run bench -- --users N [--days 30] [--churn 0.01] [--latency-ms 80] [--jitter-ms 40] [--full-read-every 7]
 *   [--worker-heap-mb 256] [--worker-malloc-arenas 2] [--worker-cpu-prof DIR]`
 *
 * Backs up a simulated tenant of N users through the real stack — Temporal dev server, a worker in its own process,
 * the GCS emulator, the Entra simulator with Microsoft's published throttle budget and a latency model — then an
 * incremental backup after 1 % churn, then daily snapshots up to `--days`. Prints a table, then one line of JSON.
 * Figures, not assertions: the targets are in the README.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../temporal.config';
import { freePort } from '../devstack/ports';
import { startStack, stopStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { createStorageClient } from '../storage/gcs-client';
import { connectClient } from '../temporal/connection';
import { listObjectTypes, requiredReadPermissions } from '../catalog';
import { startSimulator, type Simulator } from '../simulator';
import {
  backupProgressQuery,
  tenantBackupWorkflow,
  tenantQuery,
  tenantWorkflow,
  type BackupProgress,
} from '../workflows';
import { tenantWorkflowId, type BackupTarget } from '../tenants/types';
import { buildWorkflowBundle } from './build-workflows';
import { measureExport } from './bench-export';

const BACKUP_APP = { clientId: '6b1d4c1e-8f34-4a7e-9d57-b3c0a1e2f001', secret: `bench-${randomUUID()}` };
/** Microsoft's app+tenant resource-unit budget per 10 s by tenant size (graph-behaviour 7.2). */
const BUDGET_PER_10S = { S: 3500, M: 5000, L: 8000 } as const;

interface RunFigures {
  seconds: number;
  progress: BackupProgress;
  requests: number;
  resourceUnits: number;
  historyEvents: number;
  /** Resource units Graph charged in each 2 s of the run. */
  ruTimeline: number[];
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      days: { type: 'string', default: '30' },
      churn: { type: 'string', default: '0.01' },
      'latency-ms': { type: 'string', default: '80' },
      'jitter-ms': { type: 'string', default: '40' },
      'full-read-every': { type: 'string', default: '7' },
      /** V8 old-space limit of the worker (MB); V8's default on a large machine lets garbage pile up for GBs. */
      'worker-heap-mb': { type: 'string', default: '256' },
      /**
       * glibc malloc arenas of the worker (MALLOC_ARENA_MAX; 0 leaves glibc's default of 8 per core). Node's threads
       * (libuv's pool, the page digest thread, Temporal's core) each got an arena whose freed pages stayed resident:
       * 2 took ~55 MB off the worker's peak at no measurable cost.
       */
      'worker-malloc-arenas': { type: 'string', default: '2' },
      /** Writes a V8 CPU profile of the worker into this folder when it stops (open it in Chrome DevTools). */
      'worker-cpu-prof': { type: 'string' },
    },
  });
  const users = Number(values.users);
  const days = Number(values.days);
  const churn = Number(values.churn);
  const latency = { baseMs: Number(values['latency-ms']), jitterMs: Number(values['jitter-ms']) };

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
    log(`generating a tenant of ${users.toLocaleString()} users`);
    const generatedAt = Date.now();
    const tenant = sim.control.createTenant({ users, seed: 7, consentTo: [BACKUP_APP.clientId] });
    log(`  generated in ${((Date.now() - generatedAt) / 1000).toFixed(1)} s: ${JSON.stringify(tenant.counts)}`);
    sim.control.setLatency(latency);

    // As in production: the worker loads a prebuilt workflow bundle instead of bundling at start.
    const bundle = await buildWorkflowBundle(path.join(dataDir, 'workflow-bundle.js'));
    const env = {
      ...stackEnv,
      WORKFLOW_BUNDLE_PATH: bundle,
      ENTRA_AUTHORITY_HOST: sim.authorityHost,
      ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
      ENTRA_BACKUP_APP_CLIENT_ID: BACKUP_APP.clientId,
      ENTRA_BACKUP_APP_CLIENT_SECRET: BACKUP_APP.secret,
      BACKUP_FULL_READ_EVERY: String(values['full-read-every']),
      NODE_EXTRA_CA_CERTS: sim.caCertPath,
    };
    const config = loadConfig({ ...process.env, ...env });
    const nodeFlags = [`--max-old-space-size=${values['worker-heap-mb']}`];
    const profileDir = values['worker-cpu-prof'];
    if (profileDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`);
    const spawnWorker = () =>
      spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path.resolve(__dirname, '../worker/main.ts')], {
        env: {
          ...process.env,
          ...env,
          ...(values['worker-malloc-arenas'] !== '0' ? { MALLOC_ARENA_MAX: values['worker-malloc-arenas'] } : {}),
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
      storage: { bucket: config.storage.defaultBucket, prefix: `bench/${tenant.id}`, region: 'local' },
    };
    await client.workflow.start(tenantWorkflow, {
      taskQueue: config.temporal.taskQueue,
      workflowId: tenantWorkflowId(target.tenantId),
      args: [
        {
          tenant: {
            ...target,
            plan: 'backup',
            backupImmediately: false,
            consentTimeoutMs: 3_600_000,
            createdAt: new Date().toISOString(),
          },
        },
      ],
    });

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

    const usageNow = () => {
      const c = sim!.control.usage({ tenantId: tenant.id, appId: BACKUP_APP.clientId }).counters[0];
      return { requests: c?.requests ?? 0, resourceUnits: c?.resourceUnits ?? 0 };
    };
    const storageNow = async () => {
      const [files] = await createStorageClient(config.storage)
        .bucket(target.storage.bucket)
        .getFiles({ prefix: `${target.storage.prefix}/` });
      return { objects: files.length, bytes: files.reduce((n, f) => n + Number(f.metadata.size ?? 0), 0) };
    };
    const backup = async (): Promise<RunFigures> => {
      const before = usageNow();
      const started = Date.now();
      const handle = await client!.workflow.start(tenantBackupWorkflow, {
        taskQueue: config.temporal.taskQueue,
        workflowId: `backup:${target.tenantId}:${randomUUID()}`,
        args: [target],
      });
      const result = await handle.result();
      const seconds = (Date.now() - started) / 1000;
      if (result.status !== 'completed') throw new Error(`backup ${result.status}: ${result.skippedTypes.join(', ')}`);
      const after = usageNow();
      const history = await handle.fetchHistory();
      // Activities that needed another attempt and why (a stalled one shows as a heartbeat timeout): the last
      // attempt's started event carries its attempt number and the failure before it.
      const events = history.events ?? [];
      const retries = events.flatMap((e) => {
        const started = e.activityTaskStartedEventAttributes;
        if (!started || (started.attempt ?? 1) <= 1) return [];
        const scheduled = events.find((x) => String(x.eventId) === String(started.scheduledEventId));
        const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        return [`${name} attempt ${started.attempt} after "${started.lastFailure?.message ?? 'unknown'}"`];
      });
      for (const retry of retries) log(`  retried: ${retry}`);
      // Graph's charges over the run, from the simulator's request log: shows where the budget went unused.
      const startedAt = Date.parse((await handle.query(backupProgressQuery)).startedAt);
      const ruTimeline: number[] = [];
      for (const e of sim!.control.requestLog({ tenantId: tenant.id, kind: 'graph' })) {
        const bucket = Math.floor((Date.parse(e.at) - startedAt) / 2000);
        if (bucket >= 0 && e.resourceUnits) ruTimeline[bucket] = (ruTimeline[bucket] ?? 0) + e.resourceUnits;
      }
      sim!.control.clearRequestLog();
      return {
        ruTimeline: Array.from(ruTimeline, (ru) => ru ?? 0),
        seconds,
        progress: await handle.query(backupProgressQuery),
        requests: after.requests - before.requests,
        resourceUnits: after.resourceUnits - before.resourceUnits,
        historyEvents: history.events?.length ?? 0,
      };
    };

    log('full backup');
    // Where the machine's CPU went during the full backup: the simulator runs in this process.
    const pids = { worker: worker.pid!, temporal: stack.record.temporal.pid, storage: stack.record.gcs.pid };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const simulatorCpuBefore = process.cpuUsage();
    const full = await backup();
    const simulatorUsage = process.cpuUsage(simulatorCpuBefore);
    const cpu = Object.entries(pids)
      .map(([k, pid]) => `${k} ${(cpuSeconds(pid) - cpuBefore[k]).toFixed(1)} s`)
      .concat(`simulator ${((simulatorUsage.user + simulatorUsage.system) / 1e6).toFixed(1)} s`)
      .join(', ');
    const afterFull = await storageNow();
    log(
      `  ${full.seconds.toFixed(1)} s, ${full.requests} requests, ${full.resourceUnits} RU, ${mb(afterFull.bytes)} stored; CPU ${cpu}; ` +
        `worker peak RSS ${rssMb(worker.pid!, 'VmHWM').toFixed(0)} MB`,
    );

    const churnOnce = (day: number) => applyChurn(sim!, tenant.id, churn, day);
    churnOnce(1);
    log(`incremental backup after ${(churn * 100).toFixed(1)} % churn`);
    const incremental = await backup();
    let latest = incremental;
    log(`  ${incremental.seconds.toFixed(1)} s, ${incremental.requests} requests, ${incremental.resourceUnits} RU`);

    for (let day = 3; day <= days; day++) {
      churnOnce(day);
      const daily = await backup();
      latest = daily;
      const largest = Object.entries(daily.progress.types)
        .sort((a, b) => b[1].bytesStored - a[1].bytesStored)
        .slice(0, 3)
        .map(([type, t]) => `${type} ${mb(t.bytesStored)}`)
        .join(', ');
      log(
        `  day ${day}: ${daily.seconds.toFixed(1)} s, ${daily.resourceUnits} RU, ${mb((await storageNow()).bytes)} stored (most: ${largest}), worker RSS ${rssMb(worker.pid!, 'VmRSS').toFixed(0)} MB (peak ${rssMb(worker.pid!, 'VmHWM').toFixed(0)})`,
      );
    }
    const afterDays = await storageNow();
    const workerPeakRssMb = rssMb(worker.pid!, 'VmHWM');

    // The export runs on a fresh worker, so its peak RSS is the export's own.
    log('whole-tenant export of the newest snapshot, on a fresh worker');
    const stopping = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGTERM');
    await stopping;
    worker = spawnWorker();
    const exported = await measureExport({
      client,
      config,
      target,
      snapshotId: latest.progress.snapshotId!,
      workerPid: worker.pid!,
    });
    log(
      `  ${exported.exportObjects} objects, ${exported.exportMb} MB zip in ${exported.exportSeconds} s, worker peak RSS ${exported.exportPeakRssMb} MB`,
    );

    const budgetPerSecond = BUDGET_PER_10S[tenant.size] / 10;
    const throttleBoundSeconds = full.resourceUnits / budgetPerSecond;
    const objects = Object.values(tenant.counts).reduce((n, c) => n + c, 0);
    const figures = {
      users,
      objects,
      fullSeconds: round(full.seconds),
      requests: full.requests,
      resourceUnits: full.resourceUnits,
      throttleBoundSeconds: round(throttleBoundSeconds),
      ratioToBound: round(full.seconds / throttleBoundSeconds),
      incrementalRuShare: round(incremental.resourceUnits / full.resourceUnits, 4),
      storageMultipleAfter30: round(afterDays.bytes / afterFull.bytes),
      storageWrites: afterFull.objects,
      workerPeakRssMb: round(workerPeakRssMb),
      historyEvents: full.historyEvents,
      throttleWaitSeconds: round(full.progress.throttleWaitMs / 1000),
      graphSeconds: round(full.progress.graphMs / 1000),
      storageSeconds: round(full.progress.storageMs / 1000),
      exportSeconds: exported.exportSeconds,
      exportObjectsPerSecond: exported.exportObjectsPerSecond,
      exportPeakRssMb: exported.exportPeakRssMb,
    };

    console.log(`
entra-backup benchmark — ${users.toLocaleString()} users (${objects.toLocaleString()} directory objects, size ${tenant.size})
latency model: ${latency.baseMs} ms + up to ${latency.jitterMs} ms per request; budget ${BUDGET_PER_10S[tenant.size]} RU / 10 s;
object types: ${listObjectTypes().length}; ${days} daily snapshots at ${(churn * 100).toFixed(1)} % churn; full read every ${values['full-read-every']} backups

| figure                               | value |
| ------------------------------------ | ----- |
| full backup                          | ${figures.fullSeconds} s |
| requests / resource units            | ${figures.requests} / ${figures.resourceUnits} |
| throttle-bound minimum (RU ÷ budget) | ${figures.throttleBoundSeconds} s |
| ratio to the bound                   | ${figures.ratioToBound} (target ≤ 1.3) |
| incremental RU share (1 % churn)     | ${(figures.incrementalRuShare * 100).toFixed(2)} % (target ≤ 2 %) |
| storage after ${days} snapshots          | ${figures.storageMultipleAfter30} × one full (target ≤ 1.5) |
| storage writes of the full backup    | ${figures.storageWrites} objects |
| worker peak RSS                      | ${figures.workerPeakRssMb} MB (target ≤ 500) |
| history events of the full backup    | ${figures.historyEvents} |
| whole-tenant export                  | ${figures.exportSeconds} s, ${figures.exportObjectsPerSecond} objects/s, worker peak ${figures.exportPeakRssMb} MB (target ≤ 300) |
| time: throttle wait / Graph / storage | ${figures.throttleWaitSeconds} s / ${figures.graphSeconds} s / ${figures.storageSeconds} s (summed over types) |
`);
    const slowest = Object.entries(full.progress.types)
      .sort((a, b) => b[1].seconds - a[1].seconds)
      .slice(0, 6)
      .map(
        ([type, t]) =>
          `  ${type.padEnd(24)} ${t.startedAfterSeconds.toFixed(1).padStart(5)}-${(t.startedAfterSeconds + t.seconds).toFixed(1).padStart(4)} s  ${String(t.resourceUnits).padStart(6)} RU  ` +
          `wait ${t.throttleWaitSeconds.toFixed(1)} s, Graph ${t.graphSeconds.toFixed(1)} s, storage ${t.storageSeconds.toFixed(1)} s`,
      )
      .join('\n');
    console.log(
      `slowest types of the full backup (from-to after its start; throttle wait, Graph and storage overlap):\n${slowest}`,
    );
    console.log(
      `resource units per 2 s of the full backup (budget ${BUDGET_PER_10S[tenant.size] / 5}): ${full.ruTimeline.join(' ')}`,
    );
    console.log(`429 answers during the full backup: ${full.progress.throttled}\n`);
    console.log(JSON.stringify(figures));
  } finally {
    if (worker && worker.exitCode === null) {
      // It shuts down while Temporal still runs (and writes its CPU profile, if asked for), or is killed after 30 s.
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      const killer = setTimeout(() => worker!.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    }
    await client?.connection.close();
    await sim?.close();
    await stopStack(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A day's changes: `share` of users edited, a few soft-deleted, group memberships added and removed. */
function applyChurn(sim: Simulator, tenantId: string, share: number, day: number): void {
  const c = sim.control;
  const users = c.listObjects(tenantId, 'user');
  const n = Math.max(1, Math.round(users.length * share));
  for (let i = 0; i < n; i++) {
    const u = users[(day * 7919 + i * 104_729) % users.length];
    c.updateObject(tenantId, u.id, { jobTitle: `Role ${day}-${i}` });
  }
  for (let i = 0; i < Math.max(1, Math.round(n / 10)); i++) {
    const u = users[(day * 31 + i * 613) % users.length];
    if (!u.deleted) c.deleteObject(tenantId, u.id);
  }
  const groups = c.listObjects(tenantId, 'group');
  for (let i = 0; i < Math.max(1, Math.round(groups.length * share)); i++) {
    const g = groups[(day * 17 + i * 389) % groups.length];
    const u = users[(day * 13 + i * 211) % users.length];
    if (!u.deleted) c.addMember(tenantId, g.id, u.id);
  }
}

/** CPU time (user + system, all threads) a process has used, in seconds. */
function cpuSeconds(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command name.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process, in MB: VmHWM is the peak, VmRSS the current. */
function rssMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
