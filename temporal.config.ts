/**
 * The one place for addresses, namespace, task queues, timeouts and retry policies.
 *
 * Two halves:
 * - the constants workflow code uses (activity timeouts, retry policies, intervals, search attribute names, which
 *   failures mean "consent again") live in `workflow-constants.ts` and are re-exported here. Workflows import that
 *   module, never this one: workflow code runs in Temporal's deterministic sandbox, where the environment is not
 *   readable, so these change with a new worker build, not with a variable.
 * - `loadConfig(env)`: everything a process (worker, API, scripts) needs, each value overridable from the environment
 *   (see the README's table), so the same build runs against the local dev stack, a Temporal cluster or Temporal Cloud
 *   (TLS / API key), and the GCS emulator or Google Cloud Storage.
 */

import type { Duration } from '@temporalio/common';
import { tenantTiming } from './workflow-constants';

export * from './workflow-constants';

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Client certificate and key (mTLS, e.g. Temporal Cloud with certificates). */
  tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: string;
  webUiUrl: string;
  /** AES-256-GCM key(s) of the payload codec every client and worker uses. */
  payloadEncryption: PayloadEncryptionConfig;
}

export interface PayloadEncryptionConfig {
  /** Id written next to each encrypted payload, so the key that can read it is known after a rotation. */
  keyId: string;
  /** 32 bytes, base64. */
  key: string;
  /** Keys that only decrypt (payloads written before a rotation), from `PAYLOAD_DECRYPTION_KEYS`. */
  previousKeys: { id: string; key: string }[];
  /** True when the published development key is in use (never in production). */
  development: boolean;
}

export interface PortalConfig {
  /** How long a portal session lasts after sign-in (PORTAL_SESSION_HOURS, default 8). */
  sessionLifetimeMs: number;
  /** Base64 key material sealing session cookies, the same on every API replica (PORTAL_SESSION_KEY). */
  sessionSecret: string;
}

/** The codec endpoint the Temporal Web UI calls to show decrypted payloads (operators only). */
export interface CodecEndpointConfig {
  /** Operator token: sent as `Authorization: Bearer`, or exchanged for a cookie at `/codec/login`. Unset: disabled. */
  authToken?: string;
  /** Web UI origins allowed to call it from the browser (CORS, with credentials). */
  allowedOrigins: string[];
}

/** A storage location the operator offers resellers (STORAGE_LOCATIONS): tenants pick one by id. */
export interface StorageLocationConfig {
  /** What `POST /tenants` names as `storageLocationId`. */
  id: string;
  displayName: string;
  /** A label shown to resellers, e.g. "europe-west1". */
  region: string;
  bucket: string;
  /** Cloud KMS key (projects/…/cryptoKeys/…) the location's objects are encrypted with (CMEK). */
  kmsKeyName?: string;
}

export interface StorageConfig {
  /** Unset in production (Google Cloud Storage); the emulator's URL locally. */
  apiEndpoint?: string;
  projectId: string;
  /** Service-account key file; unset means Application Default Credentials. */
  keyFilename?: string;
  /** Bucket of the health check and the audit trail (and of the default storage location). */
  defaultBucket: string;
  /** The locations resellers choose among (STORAGE_LOCATIONS); default: one, `default`, on the default bucket. */
  locations: StorageLocationConfig[];
  /** Wraps every tenant's data key (base64, 32 bytes): STORAGE_MASTER_KEY. */
  masterKey: string;
  /** Longest one storage request (a pack upload included) may take before it fails and is retried. */
  requestTimeoutMs: number;
}

export interface BackupConfig {
  /** Object types captured at once per backup (each its own activity). */
  typeConcurrency: number;
  /**
   * Every Nth backup of a delta type reads it in full: the safety net under the audit log, which keeps relationships
   * delta does not report current in the backups between.
   */
  fullReadEvery: number;
  /**
   * Days the tenants' directory audit log keeps records (7 on Free, 30 on P1/P2; Graph cannot say which): a backup
   * whose previous one is older reads relationships in full instead.
   */
  auditLogRetentionDays: number;
  /** How far before the previous backup's start the audit log is read again (its records appear minutes late). */
  auditLogLatencySeconds: number;
  /** Retention of the Backup plan; Archiver keeps everything. */
  retentionDays: number;
  /** Seconds between durable checkpoints of a type being captured (what a crashed worker's retry resumes from). */
  checkpointSeconds: number;
  /** Worker threads that parse and digest pages of types without relationships (0: the main thread does). */
  digestThreads: number;
  /**
   * When long lists (users, devices, an all-users group's members) are read in parallel `startswith` partitions
   * (BACKUP_PARTITIONED_LISTING): `auto` when the engine measures that reading them page by page would be the
   * backup's latency bound; `always` above 4,000 objects (tests of the partitioned read under a fast Graph); `never`.
   */
  partitionedListing: 'auto' | 'always' | 'never';
  /**
   * Attempts of a backup's access check before an outage fails the run (BACKUP_ACCESS_CHECK_ATTEMPTS; default: the
   * workflow's own, about six minutes). Written into each daily schedule created from then on (also used by Backup now).
   */
  accessCheckAttempts?: number;
  /**
   * Heartbeat timeout of a backup's paging activities (BACKUP_HEARTBEAT_TIMEOUT_SECONDS; default: the workflow's own,
   * a minute): how soon a crashed worker's capture is retried on another. Written into each daily schedule created
   * from then on (also used by Backup now).
   */
  heartbeatTimeoutSeconds?: number;
  /**
   * A tenant whose backups have failed (not for lack of consent) this long shows "Backups failing"
   * (BACKUPS_FAILING_AFTER_HOURS); recorded in each new tenant's workflow input.
   */
  failingAfterMs: number;
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

export interface EntraAppCredentials {
  clientId: string;
  /** Read from the environment by the processes that need it; never put into workflow inputs or logs. */
  clientSecret?: string;
}

export interface EntraConfig {
  /** host[:port] of the identity platform; msal trusts it through `knownAuthorities`. */
  authorityHost: string;
  /** Graph version root, e.g. https://graph.microsoft.com/v1.0 */
  graphBaseUrl: string;
  /** Resource whose `/.default` scope app-only tokens ask for. */
  graphResource: string;
  backupApp: EntraAppCredentials;
  restoreApp: EntraAppCredentials;
  /** Where Microsoft's admin-consent flow returns to: the API's callback. */
  consentRedirectUri: string;
  /** HMAC key that signs consent `state` values (base64, at least 32 bytes). */
  consentStateKey: string;
  /** How long an admin-consent request stays open before it expires (CONSENT_TIMEOUT_SECONDS). */
  consentTimeoutMs: number;
  /** Deadline of one Graph request attempt, body included, after which it is retried (GRAPH_REQUEST_TIMEOUT_SECONDS). */
  graphRequestTimeoutMs: number;
}

export interface AppConfig {
  temporal: TemporalConnectionConfig;
  entra: EntraConfig;
  storage: StorageConfig;
  api: {
    host: string;
    port: number;
    /** How browsers and Microsoft reach the API. */
    publicUrl: string;
    codec: CodecEndpointConfig;
    /** The operator portal's sign-in sessions. */
    portal: PortalConfig;
  };
  worker: {
    maxConcurrentActivities: number;
    shutdownGraceTime: Duration;
    /** After this the worker stops even if an activity ignores cancellation (the process should then exit). */
    shutdownForceTime: Duration;
    /** Prebuilt workflow bundle (npm run build:workflows); unset: the worker bundles the workflows at start. */
    workflowBundlePath?: string;
    /** Where the worker serves Prometheus `/metrics` (WORKER_METRICS_HOST/PORT); port 0: not served. */
    metrics: { host: string; port: number };
  };
  local: LocalStackConfig;
  backup: BackupConfig;
  /** Download links: how long an export zip and its signed URL live (EXPORT_EXPIRY_SECONDS, at most 7 days). */
  exports: { expirySeconds: number };
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const v = str(env, name, fallback);
  if (!(values as readonly string[]).includes(v))
    throw new Error(`${name} must be one of ${values.join(', ')}, got '${v}'`);
  return v as T;
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

/**
 * A published key for the local stack and tests only, so the demo's processes agree without set-up. It protects
 * nothing; `NODE_ENV=production` refuses to start without `PAYLOAD_ENCRYPTION_KEY`.
 */
const developmentPayloadKey = { id: 'development-only', key: 'mJje9i22KH6O23XkVA0UjGOP/+mSO6JK+AXEqF02KtY=' };
/** Likewise published: the storage master key of the local stack. */
const developmentStorageMasterKey = 'Zm9yLWxvY2FsLWRldmVsb3BtZW50LW9ubHktITEyMzQ=';
/** Likewise published: the codec endpoint's operator token on the local stack. */
export const developmentCodecToken = 'development-only-codec-token';

function base64Key(name: string, value: string): string {
  if (Buffer.from(value, 'base64').length !== 32) throw new Error(`${name} must be 32 bytes in base64`);
  return value;
}

function payloadEncryption(env: Env, production: boolean): PayloadEncryptionConfig {
  const key = optional(env, 'PAYLOAD_ENCRYPTION_KEY');
  const previousKeys = (optional(env, 'PAYLOAD_DECRYPTION_KEYS') ?? '')
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => {
      const at = entry.indexOf('=');
      if (at < 1) throw new Error(`PAYLOAD_DECRYPTION_KEYS entries must read id=base64key, got '${entry}'`);
      return { id: entry.slice(0, at).trim(), key: base64Key('PAYLOAD_DECRYPTION_KEYS', entry.slice(at + 1).trim()) };
    });
  if (key) {
    const keyId = str(env, 'PAYLOAD_ENCRYPTION_KEY_ID', 'default');
    return { keyId, key: base64Key('PAYLOAD_ENCRYPTION_KEY', key), previousKeys, development: false };
  }
  if (production) throw new Error('PAYLOAD_ENCRYPTION_KEY is required when NODE_ENV=production');
  return { keyId: developmentPayloadKey.id, key: developmentPayloadKey.key, previousKeys, development: true };
}

function storageMasterKey(env: Env, production: boolean): string {
  const key = optional(env, 'STORAGE_MASTER_KEY');
  if (key) return base64Key('STORAGE_MASTER_KEY', key);
  if (production) throw new Error('STORAGE_MASTER_KEY is required when NODE_ENV=production');
  return developmentStorageMasterKey;
}

const LOCATION_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * STORAGE_LOCATIONS: a JSON array of `{id, displayName, region, bucket, kmsKeyName?}`. Unset: one location on the
 * default bucket, so the demo and tests work without set-up.
 */
function storageLocations(env: Env, defaultBucket: string): StorageLocationConfig[] {
  const raw = optional(env, 'STORAGE_LOCATIONS');
  if (!raw) return [{ id: 'default', displayName: 'Default', region: 'local', bucket: defaultBucket }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('STORAGE_LOCATIONS must be a JSON array of {id, displayName, region, bucket, kmsKeyName?}');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('STORAGE_LOCATIONS must be a non-empty array');
  const ids = new Set<string>();
  return parsed.map((entry: Record<string, unknown>, i) => {
    const text = (name: string, required = true): string | undefined => {
      const v = entry?.[name];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') throw new Error(`STORAGE_LOCATIONS[${i}].${name} must be a string`);
      return v;
    };
    const location: StorageLocationConfig = {
      id: text('id')!,
      displayName: text('displayName')!,
      region: text('region')!,
      bucket: text('bucket')!,
    };
    const kmsKeyName = text('kmsKeyName', false);
    if (kmsKeyName) location.kmsKeyName = kmsKeyName;
    if (!LOCATION_ID.test(location.id)) throw new Error(`STORAGE_LOCATIONS[${i}].id must match ${LOCATION_ID}`);
    if (!BUCKET_NAME.test(location.bucket)) throw new Error(`STORAGE_LOCATIONS[${i}].bucket is not a bucket name`);
    if (ids.has(location.id)) throw new Error(`STORAGE_LOCATIONS: id '${location.id}' appears twice`);
    ids.add(location.id);
    return location;
  });
}

function portalSessionKey(env: Env): string | undefined {
  const key = optional(env, 'PORTAL_SESSION_KEY');
  return key === undefined ? undefined : base64Key('PORTAL_SESSION_KEY', key);
}

function sessionHours(env: Env): number {
  const hours = Number(str(env, 'PORTAL_SESSION_HOURS', '8'));
  if (!(hours > 0)) throw new Error('PORTAL_SESSION_HOURS must be a positive number of hours');
  return hours;
}

function codecToken(env: Env, production: boolean): string | undefined {
  const token = optional(env, 'CODEC_AUTH_TOKEN');
  if (!token) return production ? undefined : developmentCodecToken;
  // It unlocks every payload of the namespace: it must not be guessable.
  if (production && (token.length < 32 || token === developmentCodecToken)) {
    throw new Error('CODEC_AUTH_TOKEN must be at least 32 random characters in production');
  }
  return token;
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
  const production = env.NODE_ENV === 'production';
  const webUiUrl = str(env, 'TEMPORAL_WEB_UI_URL', `http://127.0.0.1:${local.temporalUiPort}`);
  const tlsWanted = env.TEMPORAL_TLS === 'true' || certPath || keyPath || caPath;
  return {
    temporal: {
      address: str(env, 'TEMPORAL_ADDRESS', `127.0.0.1:${local.temporalPort}`),
      namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
      taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', 'entra-backup'),
      tls: tlsWanted ? { certPath, keyPath, caPath, serverName } : undefined,
      apiKey: optional(env, 'TEMPORAL_API_KEY'),
      webUiUrl,
      payloadEncryption: payloadEncryption(env, production),
    },
    storage: {
      apiEndpoint:
        env.STORAGE_API_ENDPOINT === 'gcs'
          ? undefined
          : str(env, 'STORAGE_API_ENDPOINT', `http://127.0.0.1:${local.gcsPort}`),
      projectId: str(env, 'STORAGE_PROJECT_ID', 'entra-backup-local'),
      keyFilename: optional(env, 'STORAGE_KEY_FILE'),
      defaultBucket: str(env, 'STORAGE_DEFAULT_BUCKET', 'entra-backup'),
      locations: storageLocations(env, str(env, 'STORAGE_DEFAULT_BUCKET', 'entra-backup')),
      masterKey: storageMasterKey(env, production),
      requestTimeoutMs: int(env, 'STORAGE_REQUEST_TIMEOUT_SECONDS', 120) * 1000,
    },
    api: {
      host: str(env, 'API_HOST', '127.0.0.1'),
      port: int(env, 'API_PORT', 3000),
      publicUrl: str(env, 'API_PUBLIC_URL', `http://127.0.0.1:${int(env, 'API_PORT', 3000)}`),
      codec: {
        authToken: codecToken(env, production),
        allowedOrigins: (optional(env, 'CODEC_ALLOWED_ORIGINS') ?? new URL(webUiUrl).origin)
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      },
      portal: {
        sessionLifetimeMs: sessionHours(env) * 60 * 60 * 1000,
        // Every API replica already shares the payload key: sessions derive their own keys from it (HKDF) unless
        // a key of their own is configured.
        sessionSecret: portalSessionKey(env) ?? payloadEncryption(env, production).key,
      },
    },
    entra: {
      authorityHost: str(env, 'ENTRA_AUTHORITY_HOST', 'login.microsoftonline.com'),
      graphBaseUrl: str(env, 'ENTRA_GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0'),
      graphResource: str(env, 'ENTRA_GRAPH_RESOURCE', 'https://graph.microsoft.com'),
      backupApp: {
        clientId: str(env, 'ENTRA_BACKUP_APP_CLIENT_ID', ''),
        clientSecret: optional(env, 'ENTRA_BACKUP_APP_CLIENT_SECRET'),
      },
      restoreApp: {
        clientId: str(env, 'ENTRA_RESTORE_APP_CLIENT_ID', ''),
        clientSecret: optional(env, 'ENTRA_RESTORE_APP_CLIENT_SECRET'),
      },
      consentRedirectUri: str(
        env,
        'ENTRA_CONSENT_REDIRECT_URI',
        `${str(env, 'API_PUBLIC_URL', `http://127.0.0.1:${int(env, 'API_PORT', 3000)}`)}/consent/callback`,
      ),
      consentStateKey: str(env, 'CONSENT_STATE_KEY', ''),
      consentTimeoutMs: int(env, 'CONSENT_TIMEOUT_SECONDS', 3600) * 1000,
      graphRequestTimeoutMs: int(env, 'GRAPH_REQUEST_TIMEOUT_SECONDS', 120) * 1000,
    },
    worker: {
      maxConcurrentActivities: int(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 50),
      shutdownGraceTime: str(env, 'WORKER_SHUTDOWN_GRACE', '30 seconds') as Duration,
      shutdownForceTime: str(env, 'WORKER_SHUTDOWN_FORCE', '60 seconds') as Duration,
      workflowBundlePath: optional(env, 'WORKFLOW_BUNDLE_PATH'),
      metrics: { host: str(env, 'WORKER_METRICS_HOST', '127.0.0.1'), port: int(env, 'WORKER_METRICS_PORT', 9464) },
    },
    local,
    exports: { expirySeconds: Math.min(int(env, 'EXPORT_EXPIRY_SECONDS', 604_800), 604_800) },
    backup: {
      typeConcurrency: int(env, 'BACKUP_TYPE_CONCURRENCY', 4),
      fullReadEvery: int(env, 'BACKUP_FULL_READ_EVERY', 60),
      auditLogRetentionDays: int(env, 'BACKUP_AUDIT_LOG_RETENTION_DAYS', 7),
      auditLogLatencySeconds: int(env, 'BACKUP_AUDIT_LOG_LATENCY_SECONDS', 900),
      retentionDays: int(env, 'BACKUP_RETENTION_DAYS', 365),
      checkpointSeconds: int(env, 'BACKUP_CHECKPOINT_SECONDS', 15),
      digestThreads: Math.min(1, int(env, 'BACKUP_DIGEST_THREADS', 1)),
      partitionedListing: oneOf(env, 'BACKUP_PARTITIONED_LISTING', ['auto', 'always', 'never'] as const, 'auto'),
      accessCheckAttempts: env.BACKUP_ACCESS_CHECK_ATTEMPTS ? int(env, 'BACKUP_ACCESS_CHECK_ATTEMPTS', 10) : undefined,
      heartbeatTimeoutSeconds: env.BACKUP_HEARTBEAT_TIMEOUT_SECONDS
        ? int(env, 'BACKUP_HEARTBEAT_TIMEOUT_SECONDS', 60)
        : undefined,
      failingAfterMs:
        int(env, 'BACKUPS_FAILING_AFTER_HOURS', tenantTiming.backupsFailingAfterMs / 3_600_000) * 3_600_000,
    },
  };
}
