import https from 'node:https';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { SimState } from './state';
import { ensureCertificates } from './tls/generate';
import { openIdRouter } from './identity/openid';
import { tokenRouter } from './identity/token-endpoint';
import { consentRouter } from './identity/consent-page';
import { graphRouter } from './graph/pipeline';
import { controlRouter } from './control/routes';
import { SimulatorControl } from './control/controller';
import type { LatencyModel } from './faults/faults';

export { SimulatorControl } from './control/controller';
export type { CreateTenantInput, TenantSummary, ObjectInfo } from './control/controller';
export type { FaultRule, LatencyModel } from './faults/faults';
export { FIELD_LATENCY, scaledLatency } from './faults/faults';
export type { ThrottleConfig } from './throttling/budget';
export { BACKUP_APP_ROLES, RESTORE_APP_ROLES, GRAPH_PERMISSIONS } from './identity/permissions';

export interface StartSimulatorOptions {
  /** 0 = any free port (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the CA and server certificate live (created if missing). Default <repo>/.local/certs. */
  certDir?: string;
  /** Seed for fault decisions and default tenant seeds. */
  seed?: number;
  /** Fixed latency added to every Graph/token response (ms). */
  latencyMs?: number;
  /** A whole latency and paging model (e.g. FIELD_LATENCY); overrides `latencyMs`. */
  latency?: LatencyModel;
}

export interface Simulator {
  /** https://127.0.0.1:PORT — identity endpoints live at /{tenant}/..., Graph at /v1.0/..., control at /_control. */
  baseUrl: string;
  /** host:port for msal `knownAuthorities`; authority = https://{authorityHost}/{tenantId}. */
  authorityHost: string;
  /** Pass as graph-client `baseUrl` (the client appends /v1.0 itself), like https://graph.microsoft.com. */
  graphBaseUrl: string;
  /** Graph service root, `${graphBaseUrl}/v1.0`, for plain fetch. */
  graphRootUrl: string;
  /** Host name for graph-client `customHosts` (no port), e.g. 127.0.0.1. */
  customHost: string;
  controlUrl: string;
  caCertPath: string;
  port: number;
  control: SimulatorControl;
  /** Authority URL for a tenant: https://{authorityHost}/{tenantId}. */
  authority(tenantId: string): string;
  close(): Promise<void>;
}

export async function startSimulator(opts: StartSimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const certDir = opts.certDir ?? path.resolve(__dirname, '..', '.local', 'certs');
  const certs = await ensureCertificates(certDir);
  const state = new SimState(opts.seed ?? 1);
  if (opts.latencyMs) state.faults.latency = { baseMs: opts.latencyMs, jitterMs: 0 };
  if (opts.latency) state.faults.latency = { ...opts.latency };
  const control = new SimulatorControl(state);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use('/_control', controlRouter(control));
  app.use('/v1.0', graphRouter(state));
  app.use(openIdRouter(state));
  app.use(tokenRouter(state));
  app.use(consentRouter(state));

  const server = https.createServer({ key: readFileSync(certs.keyPath), cert: readFileSync(certs.certPath) }, app);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  state.baseUrl = `https://${hostPart}:${port}`;
  state.authorityHost = `${hostPart}:${port}`;
  return {
    baseUrl: state.baseUrl,
    authorityHost: state.authorityHost,
    graphBaseUrl: state.baseUrl,
    graphRootUrl: `${state.baseUrl}/v1.0`,
    customHost: host,
    controlUrl: `${state.baseUrl}/_control`,
    caCertPath: certs.caCertPath,
    port,
    control,
    authority: (tenantId: string) => `${state.baseUrl}/${tenantId}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
