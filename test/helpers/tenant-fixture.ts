import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../../temporal.config';
import { requiredReadPermissions, requiredWritePermissions } from '../../catalog';
import { startSimulator, type Simulator } from '../../simulator';
import { TemporalAccountsDirectory } from '../../accounts/temporal-accounts-directory';
import { freePort } from '../../devstack/ports';
import { createApp, type ApiDependencies } from '../../api/app';
import { apiDependencies } from '../../api/dependencies';
import { listen } from './http';
import type { TestStack } from './stack';

export const BACKUP_APP = {
  clientId: '0f3c1f47-7a57-4e50-9a5c-1c1d3f5b0b01',
  secret: `backup-${randomBytes(12).toString('hex')}`,
};
export const RESTORE_APP = {
  clientId: '0f3c1f47-7a57-4e50-9a5c-1c1d3f5b0b02',
  secret: `restore-${randomBytes(12).toString('hex')}`,
};

export interface TenantFixture {
  sim: Simulator;
  config: AppConfig;
  apiPort: number;
  accounts: TemporalAccountsDirectory;
  /** The environment `config` was loaded from: hand it to a worker in another process. */
  env: Record<string, string>;
}

/**
 * The Entra simulator with our two apps registered (holding exactly the permissions the catalog needs), and a
 * product configuration that points msal and the Graph client at it, its consent redirect at an API port.
 */
export async function startTenantFixture(
  stack: TestStack,
  client: Client,
  env: Record<string, string> = {},
): Promise<TenantFixture> {
  const sim = await startSimulator({ seed: 7 });
  const apiPort = await freePort();
  const redirectUri = `http://127.0.0.1:${apiPort}/consent/callback`;
  sim.control.registerApp({
    clientId: BACKUP_APP.clientId,
    displayName: 'entra-backup Backup app',
    secret: BACKUP_APP.secret,
    redirectUris: [redirectUri],
    requiredRoles: requiredReadPermissions(),
  });
  sim.control.registerApp({
    clientId: RESTORE_APP.clientId,
    displayName: 'entra-backup Restore app',
    secret: RESTORE_APP.secret,
    redirectUris: [redirectUri],
    requiredRoles: requiredWritePermissions(),
  });
  const productEnv: Record<string, string> = {
    ENTRA_BACKUP_BIN_DIR: stack.config.local.binDir,
    TEMPORAL_ADDRESS: stack.config.temporal.address,
    // Its own task queue: a worker left by another test file (with another simulator) must never take its tasks.
    TEMPORAL_TASK_QUEUE: `${stack.config.temporal.taskQueue}-${randomBytes(4).toString('hex')}`,
    STORAGE_API_ENDPOINT: stack.config.storage.apiEndpoint ?? 'gcs',
    API_PORT: String(apiPort),
    ENTRA_AUTHORITY_HOST: sim.authorityHost,
    ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
    ENTRA_BACKUP_APP_CLIENT_ID: BACKUP_APP.clientId,
    ENTRA_BACKUP_APP_CLIENT_SECRET: BACKUP_APP.secret,
    ENTRA_RESTORE_APP_CLIENT_ID: RESTORE_APP.clientId,
    ENTRA_RESTORE_APP_CLIENT_SECRET: RESTORE_APP.secret,
    CONSENT_STATE_KEY: randomBytes(32).toString('base64'),
    // Worker processes started with this environment serve no /metrics (port 0, temporal.config.ts): they would all
    // ask for the production default 9464, and all but the first log 'worker metrics not served'. A test that
    // scrapes them passes a free port (test/integration/observability.test.ts).
    WORKER_METRICS_PORT: '0',
    ...env,
  };
  const config = loadConfig({
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENTRA_'))),
    ...productEnv,
  });
  const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
  return { sim, config, apiPort, accounts, env: productEnv };
}

export type FixtureApi = Awaited<ReturnType<typeof listen>> & { deps: ApiDependencies };

/**
 * The real API over a socket for the fixture: its configuration and accounts, on the port the simulator's consent
 * redirect points at.
 */
export async function startFixtureApi(fx: TenantFixture, client: Client): Promise<FixtureApi> {
  const deps = apiDependencies(fx.config, client, { accounts: fx.accounts });
  return { ...(await listen(createApp(deps), fx.apiPort)), deps };
}
