import { LruCache, perTenantCacheLimits } from '../lru-cache';
import { ConfidentialClientApplication } from '@azure/msal-node';
import type { EntraApp } from '../../tenants/types';
import type { EntraConfig } from '../../temporal.config';
import { classifyTokenError } from './auth-failure';

export interface AppToken {
  accessToken: string;
  /**
   * Claims we read (not verify: Graph tokens are opaque to clients,
   * https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens).
   */
  tenantId?: string;
  roles: string[];
  expiresOn?: Date;
}

/**
 * msal-node sends its token POST without a timeout; a token endpoint that never answers would hold the activity
 * (and worker shutdown) forever. Past this the request is given up as a retryable failure.
 */
export const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/** msal-node refreshes a cached token 5 minutes before it expires (its default tokenRenewalOffsetSeconds); so do we. */
const TOKEN_REUSE_MARGIN_MS = 5 * 60_000;

/**
 * App-only tokens for one of our two apps in one customer tenant, through the unmodified msal-node. One
 * ConfidentialClientApplication per (app, directory) so msal's token cache does its job; secrets come from the
 * worker's configuration and never leave this process.
 */
export class TokenProvider {
  // Both bounded (least recently used tenants go first): a worker may serve hundreds of tenants over its life.
  private readonly clients = new LruCache<string, ConfidentialClientApplication>(perTenantCacheLimits.tokenClients);
  /**
   * The last token per (app, directory), served until it is within TOKEN_REUSE_MARGIN_MS of expiring. msal's own
   * cache lookup filters every cached credential, too much work to repeat for each Graph request of a large backup.
   * A fresh token (after a 401) replaces the entry.
   */
  private readonly latest = new LruCache<string, AppToken>(perTenantCacheLimits.tokenClients);

  constructor(
    private readonly entra: EntraConfig,
    private readonly timeoutMs = TOKEN_REQUEST_TIMEOUT_MS,
  ) {}

  private client(app: EntraApp, directory: string): ConfidentialClientApplication {
    const key = `${app}:${directory.toLowerCase()}`;
    let client = this.clients.get(key);
    if (!client) {
      const creds = app === 'backup' ? this.entra.backupApp : this.entra.restoreApp;
      if (!creds.clientId || !creds.clientSecret) {
        throw new Error(
          `the ${app} app's client id or secret is not configured (ENTRA_${app.toUpperCase()}_APP_CLIENT_*)`,
        );
      }
      client = new ConfidentialClientApplication({
        auth: {
          clientId: creds.clientId,
          clientSecret: creds.clientSecret,
          authority: `https://${this.entra.authorityHost}/${directory}`,
          // Skips instance discovery, which would go to login.microsoftonline.com
          // (https://github.com/AzureAD/microsoft-authentication-library-for-js/blob/980f0b0/lib/msal-common/src/authority/Authority.ts).
          knownAuthorities: [this.entra.authorityHost],
        },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** `fresh` skips msal's cache: consent checks must see the tenant as it is now, not as an hour-old token saw it. */
  async acquire(app: EntraApp, directory: string, fresh = false): Promise<AppToken> {
    const key = `${app}:${directory.toLowerCase()}`;
    const cached = this.latest.get(key);
    if (!fresh && cached?.expiresOn && cached.expiresOn.getTime() - Date.now() > TOKEN_REUSE_MARGIN_MS) return cached;
    const token = await this.acquireFromMsal(app, directory, fresh);
    this.latest.set(key, token);
    return token;
  }

  private async acquireFromMsal(app: EntraApp, directory: string, fresh: boolean): Promise<AppToken> {
    let result;
    let timer: NodeJS.Timeout | undefined;
    try {
      const request = this.client(app, directory).acquireTokenByClientCredential({
        scopes: [`${this.entra.graphResource}/.default`],
        skipCache: fresh,
      });
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the token endpoint did not answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
      });
      result = await Promise.race([request, deadline]);
    } catch (err) {
      throw classifyTokenError(err) ?? err;
    } finally {
      clearTimeout(timer);
    }
    if (!result) throw new Error('msal returned no token');
    const claims = decodeClaims(result.accessToken);
    return {
      accessToken: result.accessToken,
      tenantId: typeof claims.tid === 'string' ? claims.tid : undefined,
      roles: Array.isArray(claims.roles) ? (claims.roles as string[]) : [],
      expiresOn: result.expiresOn ?? undefined,
    };
  }
}

function decodeClaims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
