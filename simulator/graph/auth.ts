import { SimState } from '../state';
import { decodeJwt, verifyJwtSignature } from '../util/jwt';
import { GraphError } from './types';
import { GRAPH_AUDIENCE, GRAPH_APP_ID } from '../identity/permissions';
import { grantedRoles } from '../identity/consent';
import { TenantStore } from '../store/tenant';

const WWW_AUTH =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

const unauthorized = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': WWW_AUTH });

/**
 * Validates the bearer token (signature, exp, aud) as Graph does (https://learn.microsoft.com/en-us/graph/errors) and
 * computes the effective
 * roles. Choice for the unverified
 * https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments?view=graph-rest-1.0 question:
 * roles are re-checked against the live app-role assignments, so a
 * consent revoked mid-run gives 403 at once, even with a token issued before.
 */
export function authenticate(
  state: SimState,
  authorization: string | undefined,
): { tenant: TenantStore; appId: string; roles: Set<string> } {
  if (!authorization || !/^Bearer\s+\S/i.test(authorization)) throw unauthorized('Access token is empty.');
  const token = authorization.replace(/^Bearer\s+/i, '').trim();
  const jwt = decodeJwt(token);
  if (!jwt) throw unauthorized('CompactToken parsing failed with error code: 80049217');
  if (!verifyJwtSignature(jwt, state.signingKey.publicKey)) throw unauthorized('Access token validation failure.');
  const p = jwt.payload;
  if (p.aud !== GRAPH_AUDIENCE && p.aud !== GRAPH_APP_ID && p.aud !== `${GRAPH_AUDIENCE}/`) {
    throw unauthorized('Access token validation failure. Invalid audience.');
  }
  const now = state.clock.now();
  const tenant = state.tenants.get(String(p.tid));
  if (!tenant) throw unauthorized('Access token validation failure.');
  const issuedMs = typeof p.xms_sim_iat_ms === 'number' ? p.xms_sim_iat_ms : Number(p.iat) * 1000;
  if (typeof p.exp !== 'number' || p.exp * 1000 <= now || Number(p.nbf) * 1000 > now + 300_000) {
    throw unauthorized('Access token has expired or is not yet valid.');
  }
  if (issuedMs < tenant.accessTokensNotBefore) throw unauthorized('Access token has expired or is not yet valid.');
  const appId = String(p.appid);
  const tokenRoles = Array.isArray(p.roles) ? (p.roles as string[]) : [];
  const live = grantedRoles(tenant, appId);
  return { tenant, appId, roles: new Set(tokenRoles.filter((r) => live.has(r))) };
}
