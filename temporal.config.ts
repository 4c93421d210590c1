/**
 * The one place for addresses, namespace, task queues, timeouts and retry policies.
 *
 * Two halves:
 * - `workflowTuning`: plain constants that workflow code may import. Workflow code runs in Temporal's deterministic
 *   sandbox, where the environment is not readable, so these change with a new worker build, not with a variable.
 * - `loadConfig(env)`: everything a process (worker, API, scripts) needs, each value overridable from the environment
 *   (see the README's table), so the same build runs against the local dev stack, a Temporal cluster or Temporal Cloud
 *   (TLS / API key), and the GCS emulator or Google Cloud Storage.
 */

import type { Duration, RetryPolicy } from '@temporalio/common';

export interface ActivityTuning {
  startToCloseTimeout: Duration;
  heartbeatTimeout?: Duration;
  retry: RetryPolicy;
}

/** Names of the custom search attributes every workflow of the product may set; the stack registers them. */
export const searchAttributeNames = {
  tenantId: 'TenantId',
  organizationId: 'OrganizationId',
  resellerId: 'ResellerId',
  jobKind: 'JobKind',
  jobStatus: 'JobStatus',
} as const;

export const workflowTuning = {
  /** Short I/O: one storage write, one Graph call. */
  shortActivity: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  /** Long reads that page through Graph and heartbeat their position. */
  pagingActivity: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      maximumAttempts: 0,
      nonRetryableErrorTypes: ['PermissionMissing', 'ConsentRevoked', 'InvalidInput'],
    },
  },
} satisfies Record<string, ActivityTuning>;

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Client certificate and key (mTLS, e.g. Temporal Cloud with certificates). */
  tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: string;
  webUiUrl: string;
}

export interface StorageConfig {
  /** Unset in production (Google Cloud Storage); the emulator's URL locally. */
  apiEndpoint?: string;
  projectId: string;
  /** Service-account key file; unset means Application Default Credentials. */
  keyFilename?: string;
  /** Bucket used by the health check and by tenants that name none. */
  defaultBucket: string;
}

export interface LocalStackConfig {
  /** Where the built servers live (git-ignored). */
  binDir: string;
  /** Temporal's SQLite file, the storage emulator's files, pid records (git-ignored). */
  dataDir: string;
  temporalPort: number;
  temporalUiPort: number;
  gcsPort: number;
}

export interface AppConfig {
  temporal: TemporalConnectionConfig;
  storage: StorageConfig;
  api: { host: string; port: number };
  worker: { maxConcurrentActivities: number; shutdownGraceTime: Duration };
  local: LocalStackConfig;
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const local: LocalStackConfig = {
    binDir: str(env, 'ENTRA_BACKUP_BIN_DIR', `${__dirname}/.local/bin`),
    dataDir: str(env, 'ENTRA_BACKUP_DATA_DIR', `${__dirname}/.local/data`),
    temporalPort: int(env, 'LOCAL_TEMPORAL_PORT', 7233),
    temporalUiPort: int(env, 'LOCAL_TEMPORAL_UI_PORT', 8233),
    gcsPort: int(env, 'LOCAL_GCS_PORT', 4443),
  };
  const certPath = optional(env, 'TEMPORAL_TLS_CERT');
  const keyPath = optional(env, 'TEMPORAL_TLS_KEY');
  const caPath = optional(env, 'TEMPORAL_TLS_CA');
  const serverName = optional(env, 'TEMPORAL_TLS_SERVER_NAME');
  const tlsWanted = env.TEMPORAL_TLS === 'true' || certPath || keyPath || caPath;
  return {
    temporal: {
      address: str(env, 'TEMPORAL_ADDRESS', `127.0.0.1:${local.temporalPort}`),
      namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
      taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', 'entra-backup'),
      tls: tlsWanted ? { certPath, keyPath, caPath, serverName } : undefined,
      apiKey: optional(env, 'TEMPORAL_API_KEY'),
      webUiUrl: str(env, 'TEMPORAL_WEB_UI_URL', `http://127.0.0.1:${local.temporalUiPort}`),
    },
    storage: {
      apiEndpoint:
        env.STORAGE_API_ENDPOINT === 'gcs'
          ? undefined
          : str(env, 'STORAGE_API_ENDPOINT', `http://127.0.0.1:${local.gcsPort}`),
      projectId: str(env, 'STORAGE_PROJECT_ID', 'entra-backup-local'),
      keyFilename: optional(env, 'STORAGE_KEY_FILE'),
      defaultBucket: str(env, 'STORAGE_DEFAULT_BUCKET', 'entra-backup'),
    },
    api: {
      host: str(env, 'API_HOST', '127.0.0.1'),
      port: int(env, 'API_PORT', 3000),
    },
    worker: {
      maxConcurrentActivities: int(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 50),
      shutdownGraceTime: str(env, 'WORKER_SHUTDOWN_GRACE', '30 seconds') as Duration,
    },
    local,
  };
}
