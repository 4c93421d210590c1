import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { getObjectType } from '../../catalog';
import { createStorageClient } from '../../storage/gcs-client';
import { repositoryLocation } from '../../activities/backup/repositories';
import type { Simulator } from '../../simulator';
import { backupProgressQuery, tenantBackupWorkflow, type BackupProgress } from '../../workflows';
import { measureBrowse, type BrowseFigures } from './browse';
import { measureExport, type ExportFigures } from './export';
import { log, mb } from './log';
import { BACKUP_APP, type BenchStack } from './stack';

export interface RunFigures {
  snapshotId: string;
  seconds: number;
  progress: BackupProgress;
  requests: number;
  resourceUnits: number;
  historyEvents: number;
  /** Resource units Graph charged in each 2 s of the run. */
  ruTimeline: number[];
  /**
   * The time the longest sequential chain of requests (a listing or relationship followed page after page) needs under
   * the latency model: no schedule of the requests can finish the backup sooner.
   */
  latencyBoundSeconds: number;
}

/** What the benchmark measured, before it is turned into figures. */
export interface Measurements {
  full: RunFigures;
  incremental: RunFigures;
  /** Resource units of every backup after the first (the incremental one included), and whether it read any type in full. */
  daily: { day: number; resourceUnits: number; fullReads: number }[];
  /** What a day's churn changed (the last day's). */
  churned: ChurnCounts;
  /** Bytes and objects in the tenant's storage prefix after the full backup, and after the last daily one. */
  afterFull: StorageUse;
  afterDays: StorageUse;
  /** Peak resident memory of the worker process over the whole run (MB). */
  workerPeakRssMb: number;
  browse: BrowseFigures;
  /** The export's figures, or why they could not be measured (e.g. the worker ran out of memory). */
  exported: ExportFigures | { error: string };
}

export interface StorageUse {
  /** Files listed under the tenant's prefix. */
  objects: number;
  bytes: number;
}

/** A full backup, an incremental one after a day's churn, then one a day up to `days`, each timed and counted. */
export async function measure(stack: BenchStack, options: { days: number; churn: number }): Promise<Measurements> {
  const { sim, tenant, worker, client, config, target, pids } = stack;
  let latest: RunFigures | undefined;

  const usageNow = () => {
    const c = sim.control.usage({ tenantId: tenant.id, appId: BACKUP_APP.clientId }).counters[0];
    return { requests: c?.requests ?? 0, resourceUnits: c?.resourceUnits ?? 0 };
  };
  const storageNow = async (): Promise<StorageUse> => {
    const [files] = await createStorageClient(config.storage)
      .bucket(target.storage.bucket)
      .getFiles({ prefix: repositoryLocation(target).prefix });
    return { objects: files.length, bytes: files.reduce((n, f) => n + Number(f.metadata.size ?? 0), 0) };
  };
  const backup = async (): Promise<RunFigures> => {
    const before = usageNow();
    const started = Date.now();
    const handle = await client.workflow.start(tenantBackupWorkflow, {
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
    const chainMs = new Map<string, number>();
    let longestSingleMs = 0;
    for (const e of sim.control.requestLog({ tenantId: tenant.id, kind: 'graph' })) {
      const bucket = Math.floor((Date.parse(e.at) - startedAt) / 2000);
      if (bucket >= 0 && e.resourceUnits) ruTimeline[bucket] = (ruTimeline[bucket] ?? 0) + e.resourceUnits;
      if (bucket < 0 || e.modelMs === undefined) continue;
      if (e.chain) chainMs.set(e.chain, (chainMs.get(e.chain) ?? 0) + e.modelMs);
      else longestSingleMs = Math.max(longestSingleMs, e.modelMs);
    }
    let longestMs = longestSingleMs;
    for (const ms of chainMs.values()) longestMs = Math.max(longestMs, ms);
    const latencyBoundSeconds = longestMs / 1000;
    sim.control.clearRequestLog();
    return {
      snapshotId: result.snapshotId!,
      ruTimeline: Array.from(ruTimeline, (ru) => ru ?? 0),
      latencyBoundSeconds,
      seconds,
      progress: await handle.query(backupProgressQuery),
      requests: after.requests - before.requests,
      resourceUnits: after.resourceUnits - before.resourceUnits,
      historyEvents: history.events?.length ?? 0,
    };
  };

  log('full backup');
  // Where the machine's CPU went during the full backup: the simulator runs in this process.
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

  let churned = applyChurn(sim, tenant.id, options.churn, 2);
  log(`incremental backup after ${(options.churn * 100).toFixed(1)} % churn: ${JSON.stringify(churned)}`);
  const incremental = await backup();
  log(`  ${incremental.seconds.toFixed(1)} s, ${incremental.requests} requests, ${incremental.resourceUnits} RU`);
  // Where an incremental's resource units go, per type (and how each was read).
  log(
    `  per type: ${Object.entries(incremental.progress.types)
      .sort((a, b) => b[1].resourceUnits - a[1].resourceUnits)
      .map(([type, t]) => `${type} ${t.resourceUnits} RU (${t.readMode})`)
      .join(', ')}`,
  );
  // Types with delta read in full (the periodic safety net, or a fallback); types without delta always are.
  const fullReads = (run: RunFigures) =>
    Object.entries(run.progress.types).filter(([type, t]) => t.readMode === 'full' && getObjectType(type).delta).length;
  const daily = [{ day: 2, resourceUnits: incremental.resourceUnits, fullReads: fullReads(incremental) }];

  for (let day = 3; day <= options.days; day++) {
    churned = applyChurn(sim, tenant.id, options.churn, day);
    const run = await backup();
    daily.push({ day, resourceUnits: run.resourceUnits, fullReads: fullReads(run) });
    latest = run;
    const largest = Object.entries(run.progress.types)
      .sort((a, b) => b[1].bytesStored - a[1].bytesStored)
      .slice(0, 3)
      .map(([type, t]) => `${type} ${mb(t.bytesStored)}`)
      .join(', ');
    log(
      `  day ${day}: ${run.seconds.toFixed(1)} s, ${run.resourceUnits} RU (${fullReads(run)} delta types read in full), ${mb((await storageNow()).bytes)} stored (most: ${largest}), worker RSS ${rssMb(worker.pid!, 'VmRSS').toFixed(0)} MB (peak ${rssMb(worker.pid!, 'VmHWM').toFixed(0)})`,
    );
  }
  const afterDays = await storageNow();
  const workerPeakRssMb = rssMb(worker.pid!, 'VmHWM');

  log('browse and diff through the API');
  const browse = await measureBrowse(config, client, target, full.snapshotId, incremental.snapshotId);
  log(`  diff of the first two snapshots: ${browse.diffSeconds.toFixed(2)} s (${browse.diffObjects} objects differ)`);
  log(`  one user with its history: median ${browse.objectReadMs.toFixed(0)} ms of ${browse.objectReads} reads`);

  // The export runs on a fresh worker, so its peak RSS is the export's own.
  log('whole-tenant export of the newest snapshot, on a fresh worker');
  const exportWorker = await stack.restartWorker();
  // A worker that dies (out of memory) would leave the export waiting for ever: its exit ends the measurement.
  const died = new Promise<{ error: string }>((resolve) =>
    exportWorker.once('exit', (code, signal) =>
      resolve({ error: `the export's worker exited (${signal ?? `code ${code}`}): out of memory?` }),
    ),
  );
  const exported = await Promise.race([
    measureExport({
      client,
      config,
      target,
      snapshotId: (latest ?? incremental).snapshotId,
      workerPid: exportWorker.pid!,
    }),
    died,
  ]);
  log(
    'error' in exported
      ? `  not measured: ${exported.error}`
      : `  ${exported.exportObjects} objects, ${exported.exportMb} MB zip in ${exported.exportSeconds} s, worker peak RSS ${exported.exportPeakRssMb} MB (${exported.exportWorkerStartRssMb} MB before it)`,
  );
  return { full, incremental, daily, churned, afterFull, afterDays, workerPeakRssMb, browse, exported };
}

export interface ChurnCounts {
  usersEdited: number;
  usersDeleted: number;
  membersAdded: number;
  ownersAdded: number;
  appRolesGranted: number;
  federatedCredentials: number;
}

/**
 * A day's changes, `share` of each kind of object: users edited (and a tenth as many soft-deleted), group members
 * added, and the relationship changes delta does not report — owners added to applications and service principals,
 * application permissions (app-role assignments) granted to service principals, a federated credential. Every object
 * is a candidate: the control API's list is asked for all of them (its default is the first 1,000).
 */
function applyChurn(sim: Simulator, tenantId: string, share: number, day: number): ChurnCounts {
  const c = sim.control;
  const all = { limit: Number.MAX_SAFE_INTEGER };
  const counts: ChurnCounts = {
    usersEdited: 0,
    usersDeleted: 0,
    membersAdded: 0,
    ownersAdded: 0,
    appRolesGranted: 0,
    federatedCredentials: 0,
  };
  const users = c.listObjects(tenantId, 'user', all);
  const n = Math.max(1, Math.round(users.length * share));
  for (let i = 0; i < n; i++) {
    const u = users[(day * 7919 + i * 104_729) % users.length];
    c.updateObject(tenantId, u.id, { jobTitle: `Role ${day}-${i}` });
    counts.usersEdited++;
  }
  const deleted = new Set<string>();
  for (let i = 0; i < Math.max(1, Math.round(n / 10)); i++) {
    const u = users[(day * 31 + i * 613) % users.length];
    if (deleted.has(u.id)) continue;
    c.deleteObject(tenantId, u.id);
    deleted.add(u.id);
    counts.usersDeleted++;
  }
  const live = (i: number) => {
    const u = users[i % users.length];
    return deleted.has(u.id) ? undefined : u;
  };
  const groups = c.listObjects(tenantId, 'group', all);
  for (let i = 0; i < Math.max(1, Math.round(groups.length * share)); i++) {
    const g = groups[(day * 17 + i * 389) % groups.length];
    const u = live(day * 13 + i * 211);
    if (u && c.addMember(tenantId, g.id, u.id).added) counts.membersAdded++;
  }
  const apps = c.listObjects(tenantId, 'application', all);
  const sps = c.listObjects(tenantId, 'servicePrincipal', all);
  for (const [k, parents] of [apps, sps].entries()) {
    for (let i = 0; i < Math.max(1, Math.round(parents.length * share)); i++) {
      const p = parents[(day * 29 + i * 97 + k) % parents.length];
      const u = live(day * 7 + i * 389 + k);
      if (u && c.addOwner(tenantId, p.id, u.id).added) counts.ownersAdded++;
    }
  }
  const resources = sps.filter((sp) => ((sp.data.appRoles as unknown[] | undefined) ?? []).length > 0);
  const granted = new Set(
    c
      .listObjects(tenantId, 'appRoleAssignment', all)
      .map((a) => `${a.data.principalId} ${a.data.resourceId} ${a.data.appRoleId}`),
  );
  for (let i = 0; i < Math.max(1, Math.round(sps.length * share)) && resources.length > 0; i++) {
    const client = sps[(day * 43 + i * 131) % sps.length];
    const resource = resources[(day + i) % resources.length];
    const roles = resource.data.appRoles as { id: string }[];
    const role = roles.find((r) => !granted.has(`${client.id} ${resource.id} ${r.id}`));
    if (!role || client.id === resource.id) continue;
    c.assignAppRole(tenantId, { principalId: client.id, resourceId: resource.id, appRoleId: role.id });
    granted.add(`${client.id} ${resource.id} ${role.id}`);
    counts.appRolesGranted++;
  }
  const app = apps[day % apps.length];
  c.addFederatedIdentityCredential(tenantId, app.id, {
    name: `deploy-day-${day}`,
    issuer: 'https://token.actions.githubusercontent.com',
    subject: `repo:contoso/app${day}:ref:refs/heads/main`,
    audiences: ['api://AzureADTokenExchange'],
  });
  counts.federatedCredentials++;
  return counts;
}

/** CPU time (user + system, all threads) a process has used, in seconds. */
function cpuSeconds(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command name.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Resident memory of a process, in MB: VmHWM is the peak, VmRSS the current. A /proc without the field fails the
 * benchmark: a 0 would pass any "at most" target.
 */
export function rssMb(
  pid: number,
  field: 'VmHWM' | 'VmRSS',
  status = fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
  if (kb === undefined)
    throw new Error(`/proc/${pid}/status has no ${field} line: the worker's memory cannot be measured`);
  return Number(kb) / 1024;
}
