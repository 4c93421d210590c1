import { AUDIT_LOG_PERMISSION, requiredReadPermissions, requiredWritePermissions } from '../catalog';
import type { EntraConfig } from '../temporal.config';
import { signConsentState } from '../tenants/consent-state';
import type { EntraApp } from '../tenants/types';
import { classifyGraphError, createGraphClient } from './graph/graph-client';
import type { TokenProvider } from './graph/token-provider';

export interface ConsentVerification {
  microsoftTenantId?: string;
  displayName?: string;
  grantedRoles: string[];
  missingRoles: string[];
}

/**
 * The permissions each app must hold, from the catalog: what backing up (or restoring) every type needs. The audit
 * log's is requested but not required: a tenant whose consent lacks it (one given before the app asked for it) is
 * backed up completely, its relationships read in full, and each snapshot's coverage report says so.
 */
export function requiredRoles(app: EntraApp): string[] {
  return app === 'backup'
    ? requiredReadPermissions().filter((p) => p !== AUDIT_LOG_PERMISSION)
    : requiredWritePermissions();
}

export function createConsentActivities(entra: EntraConfig, tokens: TokenProvider) {
  return {
    /**
     * Microsoft's admin-consent URL for one app in one tenant, with a signed single-use `state`. Built in an
     * activity because signing needs a key that must not enter workflow history.
     * https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
     */
    async prepareConsentRequest(input: {
      tenantId: string;
      directory: string;
      app: EntraApp;
      nonce: string;
      expiresAt: number;
    }): Promise<{ consentUrl: string }> {
      const creds = input.app === 'backup' ? entra.backupApp : entra.restoreApp;
      if (!creds.clientId) throw new Error(`the ${input.app} app's client id is not configured`);
      const state = signConsentState(
        { tenantId: input.tenantId, app: input.app, nonce: input.nonce, expiresAt: input.expiresAt },
        entra.consentStateKey,
      );
      const url = new URL(`https://${entra.authorityHost}/${encodeURIComponent(input.directory)}/v2.0/adminconsent`);
      url.searchParams.set('client_id', creds.clientId);
      // App permissions can only be requested with /.default (v2-admin-consent, "scope").
      url.searchParams.set('scope', `${entra.graphResource}/.default`);
      url.searchParams.set('redirect_uri', entra.consentRedirectUri);
      url.searchParams.set('state', state);
      return { consentUrl: url.toString() };
    },

    /**
     * Proves a consent works: a fresh token for the tenant, a read of /organization, and the token's roles compared
     * with what the catalog needs. Throws a non-retryable AuthFailure when the tenant refuses us.
     */
    async verifyConsent(input: { directory: string; app: EntraApp }): Promise<ConsentVerification> {
      const token = await tokens.acquire(input.app, input.directory, true);
      const graph = createGraphClient(entra, async () => token.accessToken);
      let organization: { id?: string; displayName?: string } | undefined;
      try {
        const page = (await graph.api('/organization').select(['id', 'displayName']).get()) as {
          value: { id?: string; displayName?: string }[];
        };
        organization = page.value[0];
      } catch (err) {
        throw classifyGraphError(err);
      }
      const granted = new Set(token.roles);
      return {
        microsoftTenantId: token.tenantId ?? organization?.id,
        displayName: organization?.displayName,
        grantedRoles: [...granted].sort(),
        missingRoles: requiredRoles(input.app).filter((r) => !granted.has(r)),
      };
    },
  };
}
