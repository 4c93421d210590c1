import { startSimulator } from './index';
import { DEMO, seedDemo } from './demo';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function run(): Promise<void> {
  const port = Number(arg('port') ?? process.env.SIM_PORT ?? 8443);
  const users = Number(arg('users') ?? process.env.SIM_DEMO_USERS ?? 1000);
  const latencyMs = Number(arg('latency') ?? process.env.SIM_LATENCY_MS ?? 0);
  const sim = await startSimulator({
    port,
    host: arg('host') ?? process.env.SIM_HOST,
    seed: Number(arg('seed') ?? 1),
    latencyMs,
  });
  seedDemo(sim.control, users);
  const lines = [
    `Entra ID / Microsoft Graph simulator`,
    `  base URL:          ${sim.baseUrl}`,
    `  authority:         ${sim.authority(DEMO.tenantId)}   (msal knownAuthorities: ["${sim.authorityHost}"])`,
    `  graph baseUrl:     ${sim.graphBaseUrl}   (Graph root ${sim.graphRootUrl}; customHosts: ["${sim.customHost}"])`,
    `  control API:       ${sim.controlUrl}`,
    `  CA certificate:    ${sim.caCertPath}   (export NODE_EXTRA_CA_CERTS=${sim.caCertPath})`,
    `  demo tenant id:    ${DEMO.tenantId}   (${users} users, backup app consented)`,
    `  backup app:        client id ${DEMO.backupApp.clientId}  secret ${DEMO.backupApp.secret}`,
    `  restore app:       client id ${DEMO.restoreApp.clientId}  secret ${DEMO.restoreApp.secret}`,
    `  admin consent:     ${sim.baseUrl}/${DEMO.tenantId}/v2.0/adminconsent?client_id=${DEMO.restoreApp.clientId}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&redirect_uri=${encodeURIComponent(DEMO.redirectUri)}&state=demo`,
    `  latency:           ${latencyMs} ms`,
  ];
  console.log(lines.join('\n'));
  const stop = () => {
    sim
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
