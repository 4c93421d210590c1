import { Router } from 'express';
import { SimState } from '../state';
import { sendAadError } from './aad-error';

/**
 * OpenID discovery and signing keys. msal-node fetches `{authority}/v2.0/.well-known/openid-configuration` for any
 * non-Microsoft host and requires authorization_endpoint, token_endpoint, issuer (same origin as the authority)
 * and jwks_uri
 * (https://github.com/AzureAD/microsoft-authentication-library-for-js/blob/980f0b0/lib/msal-common/src/authority/Authority.ts).
 */
export function openIdRouter(state: SimState): Router {
  const r = Router();
  r.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    const tenant = state.findTenant(req.params.tenant);
    if (!tenant) {
      // https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes: same invalid_tenant / 90002 as
      // sign-in; HTTP status unverified, 400 chosen.
      sendAadError(res, 400, 'invalid_tenant', 90002, tenantNotFound(req.params.tenant));
      return;
    }
    const base = `${state.baseUrl}/${tenant.id}`;
    res.json({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${state.baseUrl}/${tenant.id}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'roles', 'appid', 'idtyp'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    });
  });
  r.get('/:tenant/discovery/v2.0/keys', (_req, res) => {
    const jwk = state.signingKey.publicKey.export({ format: 'jwk' });
    res.json({
      keys: [{ kty: 'RSA', use: 'sig', kid: state.signingKey.kid, x5t: state.signingKey.kid, n: jwk.n, e: jwk.e }],
    });
  });
  return r;
}

export function tenantNotFound(tenant: string): string {
  return `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}
