import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { searchAttributeNames } from '../workflow-constants';
import { freePort, isPortFree } from './ports';
import { spawnServer, waitUntil } from './processes';

/**
 * A self-hosted Temporal cluster as operators run it: the server (all four services in one process) on PostgreSQL,
 * its schema set up by Temporal's own SQL tool, and the Web UI server pointed at its frontend. The binaries are built
 * by scripts/setup.sh at pinned versions (temporal-server, temporal-sql-tool, temporal-ui-server).
 */

/** Where the databases live: the machine's PostgreSQL (socket-less, over TCP) unless the operator names another. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
}

export interface ClusterDatabases {
  main: string;
  visibility: string;
}

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432';

/** `postgres://user[:password]@host[:port]` (TEMPORAL_POSTGRES_URL) as the SQL tool and the server want it. */
export function parsePostgresUrl(raw: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`TEMPORAL_POSTGRES_URL must look like postgres://user:password@host:5432, got '${raw}'`);
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.hostname) {
    throw new Error(`TEMPORAL_POSTGRES_URL must look like postgres://user:password@host:5432, got '${raw}'`);
  }
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || 'postgres',
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

export interface TemporalClusterOptions {
  binDir: string;
  /** The cluster's generated configuration and logs go under here. */
  dataDir: string;
  postgres: PostgresTarget;
  databases: ClusterDatabases;
  /** Frontend gRPC port (what workers and clients dial). */
  port: number;
  uiPort: number;
  namespace: string;
  codecEndpoint?: string;
}

export interface ClusterProcesses {
  server: { pid: number; binary: string };
  ui: { pid: number; binary: string };
}

const clusterDir = (dataDir: string) => path.join(dataDir, 'temporal-cluster');
const logsDir = (dataDir: string) => path.join(dataDir, 'logs');
export const clusterServerLog = (dataDir: string) => path.join(logsDir(dataDir), 'temporal-server.log');
export const clusterUiLog = (dataDir: string) => path.join(logsDir(dataDir), 'temporal-ui.log');

export const clusterBinaries = ['temporal-server', 'temporal-sql-tool', 'temporal-ui-server'] as const;

function binary(binDir: string, name: (typeof clusterBinaries)[number]): string {
  const file = path.resolve(binDir, name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run 'npm run setup' (scripts/setup.sh) first`);
  return file;
}

/** Fails with what to do when nothing answers where the databases should be. */
export async function assertPostgresReachable(pg: PostgresTarget): Promise<void> {
  const open = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: pg.host, port: pg.port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (!open) {
    throw new Error(
      `no PostgreSQL answers on ${pg.host}:${pg.port}, where the Temporal cluster keeps its databases. Either start ` +
        "the machine's PostgreSQL (Debian: 'apt-get install postgresql && service postgresql start'; the cluster " +
        "connects over TCP as user 'postgres', so that user must be allowed in from 127.0.0.1), or name another " +
        'server with TEMPORAL_POSTGRES_URL=postgres://user:password@host:5432, or use the default profile ' +
        "('npm run stack:start', Temporal's dev server on SQLite).",
    );
  }
}

async function sqlTool(o: TemporalClusterOptions, database: string, args: string[]): Promise<void> {
  const pg = o.postgres;
  const common = ['--plugin', 'postgres12', '--ep', pg.host, '--port', String(pg.port), '--user', pg.user];
  common.push('--database', database);
  // The password through the environment, so it never shows in a process list or in an error's command line.
  const env = { ...process.env, SQL_PASSWORD: pg.password ?? '' };
  try {
    await promisify(execFile)(binary(o.binDir, 'temporal-sql-tool'), [...common, ...args], { env, timeout: 120_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `temporal-sql-tool ${args[0]} on database '${database}' at ${pg.host}:${pg.port} (user '${pg.user}') failed: ` +
        `${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-5).join('\n')}`,
      { cause: err },
    );
  }
}

/**
 * Creates both databases unless they exist and brings their schemas to the version this server needs, from the
 * schemas embedded in the SQL tool (the steps of Temporal's own auto-setup). Updating is idempotent, so a restart after
 * an upgrade of the pinned server version migrates the schema.
 */
export async function setUpClusterDatabases(o: TemporalClusterOptions): Promise<void> {
  await assertPostgresReachable(o.postgres);
  for (const [database, schema] of [
    [o.databases.main, 'postgresql/v12/temporal'],
    [o.databases.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    const created = await sqlTool(o, database, ['create-database', '--defaultdb', 'postgres']).then(
      () => true,
      (err: Error) => {
        if (/already exists/.test(err.message)) return false;
        throw err;
      },
    );
    if (created) await sqlTool(o, database, ['setup-schema', '-v', '0.0']);
    await sqlTool(o, database, ['update-schema', '--schema-name', schema]);
  }
}

/** Drops both databases, where they exist (test clusters; the stack profile keeps its data). */
export async function dropClusterDatabases(o: TemporalClusterOptions): Promise<void> {
  for (const database of [o.databases.main, o.databases.visibility]) {
    await sqlTool(o, database, ['drop-database', '--defaultdb', 'postgres', '--force']).catch((err: Error) => {
      if (!/does not exist/.test(err.message)) throw err;
    });
  }
}

const yamlString = (s: string) => JSON.stringify(s);

/**
 * A free port for ringpop: the server stores membership ports in a SMALLINT column (cluster_membership.rpc_port), so
 * one from the kernel's ephemeral range (32768 and up) fails the start with "out of range for type smallint".
 */
async function freeMembershipPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (!taken.has(port) && (await isPortFree(port))) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * The server's configuration: the module's config/development-postgres12.yaml with our databases, addresses and
 * ports (every port but the frontend's is picked free at start, so clusters of parallel test runs never meet), no
 * archival, no metrics or pprof listener.
 */
export async function writeServerConfig(o: TemporalClusterOptions): Promise<string> {
  const dir = path.join(clusterDir(o.dataDir), 'config');
  fs.mkdirSync(path.join(dir, 'dynamicconfig'), { recursive: true });
  const taken = new Set<number>();
  const ports = {
    frontendHttp: await freePort(),
    frontendMembership: await freeMembershipPort(taken),
    history: await freePort(),
    historyMembership: await freeMembershipPort(taken),
    matching: await freePort(),
    matchingMembership: await freeMembershipPort(taken),
    worker: await freePort(),
    workerMembership: await freeMembershipPort(taken),
  };
  const pg = o.postgres;
  const datastore = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${yamlString(database)}
        connectAddr: ${yamlString(`${pg.host}:${pg.port}`)}
        connectProtocol: "tcp"
        user: ${yamlString(pg.user)}
        password: {{ env "${PASSWORD_VARIABLE}" | toJson }}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (grpcPort: number, membershipPort: number, extra = '') => `    rpc:
      grpcPort: ${grpcPort}
      membershipPort: ${membershipPort}
      bindOnLocalHost: true${extra}`;
  const dynamicConfigFile = path.join(dir, 'dynamicconfig', 'cluster.yaml');
  fs.writeFileSync(
    path.join(dir, 'cluster.yaml'),
    // "enable-template": the server renders the file as a Go template (go.temporal.io/server common/config/loader.go),
    // so the password comes from its environment and is never written to disk.
    `# enable-template
# Generated by devstack/temporal-cluster.ts from go.temporal.io/server's config/development-postgres12.yaml.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore(o.databases.main, 20)}
    postgres-visibility:
${datastore(o.databases.visibility, 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
  frontend:
${service(o.port, ports.frontendMembership, `\n      httpPort: ${ports.frontendHttp}`)}
  matching:
${service(ports.matching, ports.matchingMembership)}
  history:
${service(ports.history, ports.historyMembership)}
  worker:
${service(ports.worker, ports.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${o.port}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${yamlString(dynamicConfigFile)}
  pollInterval: "10s"
`,
  );
  // The product uses workflow updates (consent callback, Backup now). A namespace registered at start must be usable
  // within seconds, not after the default 10 s cache refresh; search attributes likewise (as the dev server does).
  fs.writeFileSync(
    dynamicConfigFile,
    `frontend.enableUpdateWorkflowExecution:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 1s
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.persistenceMaxQPS:
  - value: 10000
history.persistenceMaxQPS:
  - value: 45000
limit.maxIDLength:
  - value: 255
`,
  );
  return dir;
}

/** The Web UI server (the one the CLI embeds, same version) pointed at the cluster's frontend. */
function writeUiConfig(o: TemporalClusterOptions): string {
  const dir = path.join(clusterDir(o.dataDir), 'ui-config');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'cluster.yaml'),
    `temporalGrpcAddress: "127.0.0.1:${o.port}"
host: "127.0.0.1"
port: ${o.uiPort}
enableUi: true
defaultNamespace: ${yamlString(o.namespace)}
notifyOnNewVersion: false
cors:
  cookieInsecure: true
codec:
  endpoint: ${yamlString(o.codecEndpoint ?? '')}
`,
  );
  return dir;
}

/** The server's environment variable its generated config takes the database password from. */
const PASSWORD_VARIABLE = 'ENTRA_BACKUP_TEMPORAL_SQL_PASSWORD';

/** Starts the server and the Web UI on the prepared databases; returns once the namespace is usable. */
export async function startTemporalCluster(o: TemporalClusterOptions): Promise<ClusterProcesses> {
  const serverBinary = binary(o.binDir, 'temporal-server');
  const uiBinary = binary(o.binDir, 'temporal-ui-server');
  await setUpClusterDatabases(o);
  fs.mkdirSync(logsDir(o.dataDir), { recursive: true });
  const configDir = await writeServerConfig(o);
  const serverPid = spawnServer(
    serverBinary,
    ['--root', '/', '--config', configDir, '--env', 'cluster', '--allow-no-auth', 'start'],
    clusterServerLog(o.dataDir),
    { ...process.env, [PASSWORD_VARIABLE]: o.postgres.password ?? '' },
  );
  const uiPid = spawnServer(
    uiBinary,
    ['--root', '/', '--config', writeUiConfig(o), '--env', 'cluster', 'start'],
    clusterUiLog(o.dataDir),
  );
  const processes = { server: { pid: serverPid, binary: serverBinary }, ui: { pid: uiPid, binary: uiBinary } };
  const address = `127.0.0.1:${o.port}`;
  await waitUntil(
    `Temporal cluster frontend on ${address}`,
    async () => {
      // A server that exited will not come up: say so now, with its log, rather than after the timeout.
      if (!isAlive(serverPid)) throw new ServerExited();
      return await registerNamespace(address, o.namespace);
    },
    120_000,
    clusterServerLog(o.dataDir),
    (err) => err instanceof ServerExited,
  ).catch((err: Error) => {
    for (const p of Object.values(processes)) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    throw err;
  });
  return processes;
}

class ServerExited extends Error {
  constructor() {
    super('temporal-server exited');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const ALREADY_EXISTS = 6; // gRPC status code

/**
 * Registers the namespace and the product's search attributes unless they are there, then proves both usable: a
 * visibility query on one of the attributes succeeds only once the namespace and its attributes are known.
 */
async function registerNamespace(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
      .catch((err: { code?: number }) => {
        if (err.code !== ALREADY_EXISTS) throw err;
      });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.values(searchAttributeNames).filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map((name) => [name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
    }
    await connection.workflowService.countWorkflowExecutions({
      namespace,
      query: `${searchAttributeNames.tenantId} = 'start-up-check'`,
    });
    return true;
  } finally {
    await connection.close();
  }
}
