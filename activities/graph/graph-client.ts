import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type { EntraConfig } from '../../temporal.config';
import { authFailure } from './auth-failure';

/**
 * The unmodified Graph client pointed at the configured Graph root. `customHosts` lets it attach our token to a
 * host other than graph.microsoft.com (the simulator), which it otherwise refuses to do
 * (https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/GraphRequestUtil.ts).
 */
export function createGraphClient(entra: EntraConfig, getAccessToken: () => Promise<string>): Client {
  const root = new URL(entra.graphBaseUrl);
  const version = root.pathname.replace(/^\/+|\/+$/g, '') || 'v1.0';
  return Client.initWithMiddleware({
    authProvider: { getAccessToken },
    baseUrl: root.origin,
    defaultVersion: version,
    customHosts: new Set([root.hostname]),
  });
}

/** 403 Authorization_RequestDenied means the app lacks a permission: an admin must consent again. */
export function classifyGraphError(err: unknown): Error {
  if (err instanceof GraphError && err.statusCode === 403) {
    return authFailure('PermissionMissing', `Graph refused the read: ${err.code ?? 'Authorization_RequestDenied'}`);
  }
  return err as Error;
}
