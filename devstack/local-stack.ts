import fs from 'node:fs';
import path from 'node:path';
import { assertPortsFree } from './ports';
import { isRunning, killProcess, spawnServer, stopProcess, waitUntil } from './processes';
import { isHttpOk, isTemporalHealthy, temporalServerArgs } from './temporal-server';
import { gcsHealthUrl, gcsServerArgs } from './gcs-server';
import { clusterServerLog, startTemporalCluster, type ClusterDatabases, type PostgresTarget } from './temporal-cluster';

/**
 * Which Temporal the stack runs: 'dev' is the CLI's dev server (SQLite, one process); 'cluster' is the Temporal server
 * itself on PostgreSQL with its Web UI server, as self-hosting operators run it (devstack/temporal-cluster.ts).
 */
export type TemporalProfile = 'dev' | 'cluster';

export interface LocalStackOptions {
  binDir: string;
  dataDir: string;
  temporalPort: number;
  temporalUiPort: number;
  gcsPort: number;
  namespace: string;
  codecEndpoint?: string;
  /** Default 'dev'. */
  profile?: TemporalProfile;
  /** Profile 'cluster': where its databases are, and their names. */
  postgres?: PostgresTarget;
  databases?: ClusterDatabases;
}

/** What `start` recorded, so `stop` ends exactly the processes it started. */
export interface StackRecord {
  temporal: {
    pid: number;
    binary: string;
    port: number;
    uiPort: number;
    namespace: string;
    /** Absent in records of older versions: 'dev'. */
    profile?: TemporalProfile;
    /** Profile 'cluster': the Web UI server is a process of its own. */
    ui?: { pid: number; binary: string };
  };
  gcs: { pid: number; binary: string; port: number };
  startedAt: string;
}

export interface RunningStack {
  record: StackRecord;
  temporalAddress: string;
  webUiUrl: string;
  storageEndpoint: string;
  /** false when start found the stack already running and left it alone. */
  started: boolean;
}

const recordFile = (dataDir: string) => path.join(dataDir, 'stack.json');
const logsDir = (dataDir: string) => path.join(dataDir, 'logs');

export function readRecord(dataDir: string): StackRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(dataDir), 'utf8')) as StackRecord;
  } catch {
    return undefined;
  }
}

function describe(record: StackRecord, started: boolean): RunningStack {
  return {
    record,
    temporalAddress: `127.0.0.1:${record.temporal.port}`,
    webUiUrl: `http://127.0.0.1:${record.temporal.uiPort}`,
    storageEndpoint: `http://127.0.0.1:${record.gcs.port}`,
    started,
  };
}

function requireBinary(binDir: string, name: string): string {
  const binary = path.resolve(binDir, name);
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run 'npm run setup' (scripts/setup.sh) first`);
  return binary;
}

/**
 * Brings up Temporal (the dev server, or with profile 'cluster' the server on PostgreSQL and its Web UI) and the GCS
 * emulator and waits until both answer. Idempotent: a process recorded by an earlier start that is still alive is
 * kept; only what is missing (never started, or crashed) is started.
 */
export async function startStack(o: LocalStackOptions): Promise<RunningStack> {
  const previous = readRecord(o.dataDir);
  const profile = o.profile ?? 'dev';
  const temporalAlive = !!previous && isTemporalRunning(previous);
  if (previous && temporalAlive && (previous.temporal.profile ?? 'dev') !== profile) {
    throw new Error(
      `the local stack in ${o.dataDir} runs Temporal's '${previous.temporal.profile ?? 'dev'}' profile, not ` +
        `'${profile}': stop it first (npm run stack:stop)`,
    );
  }
  const gcsAlive = !!previous && isRunning(previous.gcs.pid, previous.gcs.binary);
  if (previous && temporalAlive && gcsAlive) {
    await waitForHealth(previous, o.dataDir);
    return describe(previous, false);
  }

  const gcsBinary = requireBinary(o.binDir, 'fake-gcs-server');
  // Half a cluster (its server crashed, its UI still up, or the reverse) is started again whole.
  if (previous && !temporalAlive) await stopTemporal(previous);
  const wanted: Record<string, number> = {};
  if (!temporalAlive)
    Object.assign(wanted, { 'Temporal frontend': o.temporalPort, 'Temporal Web UI': o.temporalUiPort });
  if (!gcsAlive) wanted['GCS emulator'] = o.gcsPort;
  await assertPortsFree(wanted);

  const storageRoot = path.join(o.dataDir, 'gcs');
  fs.mkdirSync(storageRoot, { recursive: true });
  fs.mkdirSync(logsDir(o.dataDir), { recursive: true });

  // The cluster first: it waits for its frontend itself, and on failure nothing else has been started.
  const temporal = previous && temporalAlive ? previous.temporal : await startTemporal(o, profile);
  const record: StackRecord = {
    temporal,
    gcs:
      previous && gcsAlive
        ? previous.gcs
        : {
            pid: spawnServer(
              gcsBinary,
              gcsServerArgs({ binary: gcsBinary, port: o.gcsPort, rootDir: storageRoot }),
              path.join(logsDir(o.dataDir), 'gcs.log'),
            ),
            binary: gcsBinary,
            port: o.gcsPort,
          },
    startedAt: new Date().toISOString(),
  };
  fs.writeFileSync(recordFile(o.dataDir), JSON.stringify(record, null, 2));
  try {
    await waitForHealth(record, o.dataDir);
  } catch (err) {
    await stopStack(o.dataDir);
    throw err;
  }
  return describe(record, true);
}

async function startTemporal(o: LocalStackOptions, profile: TemporalProfile): Promise<StackRecord['temporal']> {
  const common = { port: o.temporalPort, uiPort: o.temporalUiPort, namespace: o.namespace, profile };
  if (profile === 'cluster') {
    if (!o.postgres || !o.databases) throw new Error("the 'cluster' profile needs a PostgreSQL server and databases");
    const { server, ui } = await startTemporalCluster({
      binDir: o.binDir,
      dataDir: o.dataDir,
      postgres: o.postgres,
      databases: o.databases,
      port: o.temporalPort,
      uiPort: o.temporalUiPort,
      namespace: o.namespace,
      codecEndpoint: o.codecEndpoint,
    });
    return { ...common, pid: server.pid, binary: server.binary, ui };
  }
  const temporalBinary = requireBinary(o.binDir, 'temporal');
  const pid = spawnServer(
    temporalBinary,
    temporalServerArgs({
      binary: temporalBinary,
      dbFile: path.join(o.dataDir, 'temporal.db'),
      port: o.temporalPort,
      uiPort: o.temporalUiPort,
      namespace: o.namespace,
      codecEndpoint: o.codecEndpoint,
    }),
    path.join(logsDir(o.dataDir), 'temporal.log'),
  );
  return { ...common, pid, binary: temporalBinary };
}

function isTemporalRunning(record: StackRecord): boolean {
  const { temporal } = record;
  return isRunning(temporal.pid, temporal.binary) && (!temporal.ui || isRunning(temporal.ui.pid, temporal.ui.binary));
}

async function waitForHealth(record: StackRecord, dataDir: string): Promise<void> {
  const address = `127.0.0.1:${record.temporal.port}`;
  await Promise.all([
    waitUntil(
      `Temporal server on ${address}`,
      () => isTemporalHealthy(address, record.temporal.namespace),
      60_000,
      record.temporal.profile === 'cluster' ? clusterServerLog(dataDir) : path.join(logsDir(dataDir), 'temporal.log'),
    ),
    waitUntil(
      `Temporal Web UI on port ${record.temporal.uiPort}`,
      () => isHttpOk(`http://127.0.0.1:${record.temporal.uiPort}/`),
      60_000,
    ),
    waitUntil(
      `GCS emulator on port ${record.gcs.port}`,
      () => isHttpOk(gcsHealthUrl(record.gcs.port)),
      30_000,
      path.join(logsDir(dataDir), 'gcs.log'),
    ),
  ]);
}

/** Ends the processes that start recorded, and only those. Returns what it stopped. */
export async function stopStack(dataDir: string): Promise<string[]> {
  const record = readRecord(dataDir);
  if (!record) return [];
  const stopped = await stopTemporal(record);
  if (await stopProcess(record.gcs.pid, record.gcs.binary)) stopped.push(`fake-gcs-server (pid ${record.gcs.pid})`);
  fs.rmSync(recordFile(dataDir), { force: true });
  return stopped;
}

async function stopTemporal(record: StackRecord): Promise<string[]> {
  const stopped: string[] = [];
  const { temporal } = record;
  if (await stopProcess(temporal.pid, temporal.binary))
    stopped.push(`${path.basename(temporal.binary)} (pid ${temporal.pid})`);
  if (temporal.ui && (await stopProcess(temporal.ui.pid, temporal.ui.binary)))
    stopped.push(`temporal-ui-server (pid ${temporal.ui.pid})`);
  return stopped;
}

/** Kills the Temporal server at once, as a crash would; its SQLite file stays. For recovery tests. */
export function crashTemporal(dataDir: string): void {
  const record = readRecord(dataDir);
  if (record) killProcess(record.temporal.pid, record.temporal.binary);
}

export function stackStatus(dataDir: string): { record?: StackRecord; temporal: boolean; gcs: boolean } {
  const record = readRecord(dataDir);
  return {
    record,
    temporal: !!record && isTemporalRunning(record),
    gcs: !!record && isRunning(record.gcs.pid, record.gcs.binary),
  };
}
