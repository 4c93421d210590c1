import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client, PageIterator } from '@microsoft/microsoft-graph-client';
import path from 'node:path';
import { startSimulator } from './index';
import { BACKUP_APP_ROLES } from './identity/permissions';

/**
 * Benchmark: generate a tenant of --users users, then list every user through the unmodified graph-client with
 * $top=999 (PageIterator). Prints generation time, listing time, latency model and peak RSS.
 * Run: npx tsx simulator/bench.ts --users 100000 [--latency 0]
 * The simulator's CA must be trusted: the script re-executes itself with NODE_EXTRA_CA_CERTS when missing.
 */
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

let peakRss = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

async function run(): Promise<void> {
  const users = Number(arg('users', '100000'));
  const latencyMs = Number(arg('latency', '0'));
  const sim = await startSimulator({ port: 0, latencyMs });
  const timer = setInterval(sample, 50);
  try {
    const app = sim.control.registerApp({ displayName: 'Bench', requiredRoles: BACKUP_APP_ROLES });
    let t0 = performance.now();
    const tenant = sim.control.createTenant({ users, seed: 99, consentTo: [app.clientId] });
    const genMs = performance.now() - t0;
    sample();
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: app.clientId,
        clientSecret: app.secret,
        authority: sim.authority(tenant.id),
        knownAuthorities: [sim.authorityHost],
      },
    });
    const client = Client.initWithMiddleware({
      baseUrl: sim.graphBaseUrl,
      customHosts: new Set([sim.customHost]),
      authProvider: {
        getAccessToken: async () =>
          (await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }))
            ?.accessToken ?? '',
      },
    });
    t0 = performance.now();
    let count = 0;
    let pages = 1;
    const first = (await client.api('/users').top(999).get()) as { value: unknown[] };
    const it = new PageIterator(client, first, () => {
      count++;
      return true;
    });
    await it.iterate();
    pages = Math.ceil(count / 999);
    const listMs = performance.now() - t0;
    sample();
    const usage = sim.control.usage({ tenantId: tenant.id }).counters[0];
    console.log(
      [
        `users:               ${users}`,
        `tenant size class:   ${tenant.size}`,
        `objects generated:   ${Object.entries(tenant.counts)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        `generation time:     ${(genMs / 1000).toFixed(2)} s`,
        `list users ($top=999, graph-client PageIterator): ${count} users, ${pages} pages in ${(listMs / 1000).toFixed(2)} s`,
        `latency model:       ${latencyMs} ms per request`,
        `resource units used: ${usage?.resourceUnits ?? 0} (throttled ${usage?.throttled ?? 0})`,
        `peak RSS:            ${(peakRss / 1024 / 1024).toFixed(0)} MB`,
      ].join('\n'),
    );
  } finally {
    clearInterval(timer);
    await sim.close();
  }
}

const ca = path.resolve(__dirname, '..', '.local', 'certs', 'ca.pem');
if (process.env.NODE_EXTRA_CA_CERTS !== ca && !process.env.SIM_BENCH_CHILD) {
  // Node reads NODE_EXTRA_CA_CERTS only at start-up: re-run with it pointing at the simulator's CA.
  void import('./tls/generate').then(async ({ ensureCertificates }) => {
    await ensureCertificates(path.dirname(ca));
    const { spawnSync } = await import('node:child_process');
    const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, [__filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, SIM_BENCH_CHILD: '1' },
    });
    process.exit(r.status ?? 1);
  });
} else {
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
