import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../../temporal.config';
import { freePort } from '../../devstack/ports';
import {
  crashTemporal,
  startStack,
  stopStack,
  type LocalStackOptions,
  type TemporalProfile,
} from '../../devstack/local-stack';
import { ensureBucket } from '../../devstack/buckets';
import { DEFAULT_POSTGRES_URL, dropClusterDatabases, parsePostgresUrl } from '../../devstack/temporal-cluster';

const repoRoot = path.resolve(__dirname, '../..');

export interface TestStack {
  config: AppConfig;
  /** Absent when the tests use an external stack. */
  options?: LocalStackOptions;
  /** Kills the Temporal server at once (its SQLite file stays), as a crash would. */
  crashTemporal(): void;
  /** Starts what is not running again, on the same ports and data folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An isolated stack for one test run: Temporal dev server and GCS emulator on free ports, data in a temporary
 * folder, torn down by `stop()`. With TEST_TEMPORAL_ADDRESS and TEST_STORAGE_ENDPOINT set, tests use that stack
 * instead and nothing is started or stopped. Profile 'cluster': the Temporal server on the machine's PostgreSQL (or
 * TEMPORAL_POSTGRES_URL's) with databases of its own, dropped by `stop()`.
 */
export async function startTestStack(profile: TemporalProfile = 'dev'): Promise<TestStack> {
  const external = profile === 'dev' && process.env.TEST_TEMPORAL_ADDRESS && process.env.TEST_STORAGE_ENDPOINT;
  if (external) {
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      STORAGE_API_ENDPOINT: process.env.TEST_STORAGE_ENDPOINT,
      TEMPORAL_TASK_QUEUE: `test-${process.pid}-${Date.now()}`,
    });
    await ensureBucket(config.storage, config.storage.defaultBucket);
    const unsupported = (): never => {
      throw new Error('an external test stack cannot be crashed or restarted by the tests');
    };
    return { config, crashTemporal: unsupported, restart: async () => unsupported(), stop: async () => {} };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-test-'));
  const [temporalPort, temporalUiPort, gcsPort] = [await freePort(), await freePort(), await freePort()];
  const config = loadConfig({
    ENTRA_BACKUP_BIN_DIR: path.join(repoRoot, '.local/bin'),
    ENTRA_BACKUP_DATA_DIR: dataDir,
    LOCAL_TEMPORAL_PORT: String(temporalPort),
    LOCAL_TEMPORAL_UI_PORT: String(temporalUiPort),
    LOCAL_GCS_PORT: String(gcsPort),
    TEMPORAL_TASK_QUEUE: 'entra-backup-test',
    ...(process.env.STORAGE_REQUEST_TIMEOUT_SECONDS
      ? { STORAGE_REQUEST_TIMEOUT_SECONDS: process.env.STORAGE_REQUEST_TIMEOUT_SECONDS }
      : {}),
  });
  const suffix = randomBytes(4).toString('hex');
  const options: LocalStackOptions = {
    ...config.local,
    namespace: config.temporal.namespace,
    profile,
    ...(profile === 'cluster'
      ? {
          postgres: parsePostgresUrl(process.env.TEMPORAL_POSTGRES_URL ?? DEFAULT_POSTGRES_URL),
          databases: { main: `temporal_test_${suffix}`, visibility: `temporal_visibility_test_${suffix}` },
        }
      : {}),
  };
  const dropDatabases = async () => {
    if (profile === 'cluster') {
      await dropClusterDatabases({
        ...options,
        postgres: options.postgres!,
        databases: options.databases!,
        port: 0,
        uiPort: 0,
      });
    }
  };
  try {
    await startStack(options);
  } catch (err) {
    await stopStack(dataDir);
    await dropDatabases().catch(() => undefined);
    throw err;
  }
  await ensureBucket(config.storage, config.storage.defaultBucket);
  return {
    config,
    options,
    crashTemporal: () => crashTemporal(dataDir),
    restart: async () => {
      await startStack(options);
    },
    stop: async () => {
      await stopStack(dataDir);
      await dropDatabases();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<TestStack> | undefined;

/** One stack shared by every integration test file of a run; stopped by the root hook after the last test. */
export function sharedTestStack(): Promise<TestStack> {
  shared ??= startTestStack();
  return shared;
}

export async function stopSharedTestStack(): Promise<void> {
  if (!shared) return;
  const stack = await shared.catch(() => undefined);
  shared = undefined;
  await stack?.stop();
}
