/**
 * `npm run demo`: the local stack (Temporal dev server + Web UI, GCS emulator), the Entra simulator with a demo
 * customer tenant, a worker and the API, in the foreground, plus a demo reseller, organization, API key and tenant.
 * Ctrl-C stops the worker, the API and the simulator; the stack keeps running (and keeps its data) until
 * `npm run stack:stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../temporal.config';
import { requiredReadPermissions, requiredWritePermissions } from '../catalog';
import { startSimulator, type Simulator } from '../simulator';
import { connectClient } from '../temporal/connection';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';
import { startStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { assertPortsFree } from '../devstack/ports';
import { waitUntil } from '../devstack/processes';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];
let childEnv: NodeJS.ProcessEnv = process.env;
let sim: Simulator | undefined;

/** Demo identities; the secrets are for the local simulator only. */
const DEMO = {
  microsoftTenantId: '7d3f1a52-6c1e-4b7a-9f0e-2b6c8d4e1a01',
  backupApp: { clientId: 'b4c2a1e0-0d1f-4c6b-8e1a-5a9c7d3e2b10', secret: 'sim-backup-secret~0123456789abcdefghijklmn' },
  restoreApp: {
    clientId: 'e7d9c3b1-2f4a-4d8e-9b1c-6c0a8f5e3d20',
    secret: 'sim-restore-secret~0123456789abcdefghijklm',
  },
  resellerId: 'demo-reseller',
  organizationId: 'demo-contoso',
};

/** The demo operator's storage locations: a European and an American region (both on the local emulator). */
function demoLocations(defaultBucket: string) {
  return [
    { id: 'eu-west', displayName: 'Europe (West)', region: 'europe-west1', bucket: defaultBucket },
    { id: 'us-east', displayName: 'United States (East)', region: 'us-east1', bucket: `${defaultBucket}-us` },
  ];
}

/** What survives between demo runs: the consent signing key and the demo tenant's id. */
interface DemoState {
  consentStateKey: string;
  tenantId?: string;
}

function loadDemoState(config: AppConfig): { state: DemoState; save(): void } {
  const file = path.join(config.local.dataDir, 'demo.json');
  const state: DemoState = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as DemoState)
    : { consentStateKey: randomBytes(32).toString('base64') };
  const save = () => fs.writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  save();
  return { state, save };
}

function startChild(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script)], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => `[${name}] ${l}`)
      .join('\n') + '\n';
  child.stdout?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the demo`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of children) child.kill('SIGTERM');
  void sim?.close();
  console.log('\nworker, API and simulator stopped; the stack keeps running (npm run stack:stop ends it)');
  setTimeout(() => process.exit(code), 1500).unref();
}

async function run(): Promise<void> {
  const base = loadConfig();
  console.log('starting the local stack…');
  const publicUrl = process.env.API_PUBLIC_URL ?? `http://localhost:${base.api.port}`;
  // The Web UI decodes encrypted payloads through the API's codec endpoint (operator login: /codec/login).
  const stack = await startStack({
    ...base.local,
    namespace: base.temporal.namespace,
    codecEndpoint: `${publicUrl}/codec`,
  });
  await ensureBucket(base.storage, base.storage.defaultBucket);
  await assertPortsFree({ API: base.api.port }, base.api.host);
  const simPort = Number(process.env.SIM_PORT ?? 8443);
  await assertPortsFree({ 'Entra simulator': simPort });
  const demo = loadDemoState(base);

  // The simulated Microsoft cloud: our two apps registered with what the catalog needs, one customer tenant whose
  // admin consent page waits for a person to click Accept or Decline.
  sim = await startSimulator({ port: simPort });
  const redirectUris = [`${publicUrl}/consent/callback`];
  sim.control.registerApp({
    clientId: DEMO.backupApp.clientId,
    displayName: 'entra-backup Backup app (read-only)',
    secret: DEMO.backupApp.secret,
    redirectUris,
    requiredRoles: requiredReadPermissions(),
  });
  sim.control.registerApp({
    clientId: DEMO.restoreApp.clientId,
    displayName: 'entra-backup Restore app',
    secret: DEMO.restoreApp.secret,
    redirectUris,
    requiredRoles: requiredWritePermissions(),
  });
  sim.control.createTenant({
    id: DEMO.microsoftTenantId,
    seed: 42,
    users: 1000,
    displayName: 'Contoso Demo',
    domainPrefix: 'contosodemo',
    consentMode: 'page',
  });

  // The operator's storage locations: two regions, each its own bucket (an operator's own STORAGE_LOCATIONS wins).
  const locations = process.env.STORAGE_LOCATIONS ?? JSON.stringify(demoLocations(base.storage.defaultBucket));
  for (const location of loadConfig({ ...process.env, STORAGE_LOCATIONS: locations }).storage.locations) {
    await ensureBucket(base.storage, location.bucket);
  }

  const env: Record<string, string> = {
    STORAGE_LOCATIONS: locations,
    ENTRA_AUTHORITY_HOST: sim.authorityHost,
    ENTRA_GRAPH_BASE_URL: sim.graphRootUrl,
    ENTRA_BACKUP_APP_CLIENT_ID: DEMO.backupApp.clientId,
    ENTRA_BACKUP_APP_CLIENT_SECRET: DEMO.backupApp.secret,
    ENTRA_RESTORE_APP_CLIENT_ID: DEMO.restoreApp.clientId,
    ENTRA_RESTORE_APP_CLIENT_SECRET: DEMO.restoreApp.secret,
    CONSENT_STATE_KEY: demo.state.consentStateKey,
    API_PUBLIC_URL: publicUrl,
    NODE_EXTRA_CA_CERTS: sim.caCertPath,
    // Human-readable logs in the demo (pino-pretty); deployed processes write one JSON object a line.
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
  };
  childEnv = { ...process.env, ...env };
  const config = loadConfig(childEnv);

  startChild('worker', 'worker/main.ts');
  startChild('api', 'api/main.ts');
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  await waitUntil('the API', async () => (await fetch(`${apiUrl}/healthz`)).ok, 60_000);

  // The demo reseller, its organization and a fresh API key (shown once, like the operator command does).
  const client = await connectClient(config.temporal);
  const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
  if (!(await accounts.getReseller(DEMO.resellerId))) {
    await accounts.createReseller({ id: DEMO.resellerId, name: 'Demo MSP' });
  }
  if (!(await accounts.getOrganization(DEMO.resellerId, DEMO.organizationId))) {
    await accounts.createOrganization(DEMO.resellerId, { id: DEMO.organizationId, name: 'Contoso' });
  }
  const { apiKey } = await accounts.createApiKey(DEMO.resellerId);
  await client.connection.close();

  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  if (!demo.state.tenantId) {
    const res = await fetch(`${apiUrl}/tenants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        organizationId: DEMO.organizationId,
        directory: DEMO.microsoftTenantId,
        storageLocationId: config.storage.locations[0].id,
        plan: 'backup',
        backupImmediately: true,
      }),
    });
    if (res.status !== 201) throw new Error(`could not add the demo tenant: ${res.status} ${await res.text()}`);
    demo.state.tenantId = ((await res.json()) as { tenantId: string }).tenantId;
    demo.save();
  }
  const tenantUrl = `${apiUrl}/tenants/${demo.state.tenantId}`;

  console.log(`
entra-backup demo is running
  API:               ${apiUrl}   (OpenAPI document: ${apiUrl}/openapi.json)
  Portal:            ${apiUrl}/portal/   (sign in with the API key below)
  Temporal Web UI:   ${stack.webUiUrl}
  Temporal:          ${stack.temporalAddress}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
  GCS emulator:      ${stack.storageEndpoint}, buckets ${[...new Set(config.storage.locations.map((l) => l.bucket))].join(', ')}
  Storage locations: ${config.storage.locations.map((l) => `${l.id} (${l.region})`).join(', ')}
  Entra simulator:   ${sim.baseUrl} (CA certificate ${sim.caCertPath})
  Metrics:           ${apiUrl}/metrics (API), http://${config.worker.metrics.host}:${config.worker.metrics.port}/metrics (worker)
  Demo reseller:     ${DEMO.resellerId}, organization ${DEMO.organizationId}
  API key (new):     ${apiKey}
  Demo tenant:       ${demo.state.tenantId} (Microsoft tenant ${DEMO.microsoftTenantId}, "Contoso Demo", 1,000 users)

Try:
  export KEY='${apiKey}'
  curl -s ${apiUrl}/storage-locations -H "authorization: Bearer $KEY"   (where a new tenant can be kept)
  curl -s ${tenantUrl} -H "authorization: Bearer $KEY"
  curl -s -X POST ${tenantUrl}/consent-requests -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d '{"app":"backup"}'
    → open the consentUrl in a browser (accept the simulator's certificate, or trust its CA), click Accept
  curl -s ${tenantUrl} -H "authorization: Bearer $KEY"            (status: active, schedule created, first backup run)
  curl -s -X POST ${tenantUrl}/backups -H "authorization: Bearer $KEY"   (Backup now)
  Then watch the tenant, schedule and backup workflows in the Temporal Web UI. Payloads are encrypted; to read them
  there, sign in once at ${publicUrl}/codec/login with the operator codec token (CODEC_AUTH_TOKEN; in development
  '${config.api.codec.authToken ?? ''}') and tick "Include cross-origin credentials" in the UI's codec settings.

Ctrl-C stops the worker, the API and the simulator.`);
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  shutdown(1);
});
