import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client, ClientOptions } from '@microsoft/microsoft-graph-client';
import { startSimulator, Simulator, BACKUP_APP_ROLES, RESTORE_APP_ROLES } from '../../simulator';

export interface TestApp {
  clientId: string;
  secret: string;
}

export const REDIRECT = 'https://app.example.test/consent/callback';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export async function startWithApps(): Promise<{ sim: Simulator; backup: TestApp; restore: TestApp }> {
  const sim = await startSimulator({ port: 0, seed: 7 });
  const b = sim.control.registerApp({
    displayName: 'Backup',
    requiredRoles: BACKUP_APP_ROLES,
    redirectUris: [REDIRECT],
  });
  const r = sim.control.registerApp({
    displayName: 'Restore',
    requiredRoles: RESTORE_APP_ROLES,
    redirectUris: [REDIRECT],
  });
  return {
    sim,
    backup: { clientId: b.clientId, secret: b.secret as string },
    restore: { clientId: r.clientId, secret: r.secret as string },
  };
}

export interface SimTenant {
  sim: Simulator;
  backup: TestApp;
  restore: TestApp;
  tenantId: string;
  /** graph-client for `app` in the tenant. */
  client: Client;
}

/**
 * The setup every simulator suite shares: a simulator with the Backup and Restore apps, one seeded tenant of `users`
 * users that consented to `app`, and the unmodified graph-client for that app. Use in `before`, close in `after`.
 */
export async function startTenant(opts: { users: number; app: 'backup' | 'restore' }): Promise<SimTenant> {
  const { sim, backup, restore } = await startWithApps();
  const app = opts.app === 'backup' ? backup : restore;
  const tenantId = sim.control.createTenant({ users: opts.users, consentTo: [app.clientId] }).id;
  return { sim, backup, restore, tenantId, client: graphClient(sim, tenantId, app) };
}

export function msalApp(sim: Simulator, tenantId: string, app: TestApp): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: app.secret,
      authority: sim.authority(tenantId),
      knownAuthorities: [sim.authorityHost],
    },
  });
}

export async function token(sim: Simulator, tenantId: string, app: TestApp): Promise<string> {
  const r = await msalApp(sim, tenantId, app).acquireTokenByClientCredential({
    scopes: [GRAPH_SCOPE],
    skipCache: true,
  });
  if (!r) throw new Error('no token');
  return r.accessToken;
}

/** The unmodified graph-client pointed at the simulator (custom host, https). */
export function graphClient(
  sim: Simulator,
  tenantId: string,
  app: TestApp,
  extra: Partial<ClientOptions> = {},
): Client {
  const cca = msalApp(sim, tenantId, app);
  return Client.initWithMiddleware({
    baseUrl: sim.graphBaseUrl,
    customHosts: new Set([sim.customHost]),
    authProvider: {
      getAccessToken: async () => {
        const r = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
        if (!r) throw new Error('no token');
        return r.accessToken;
      },
    },
    ...extra,
  });
}

export async function graphFetch(
  sim: Simulator,
  accessToken: string,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${sim.graphRootUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}
