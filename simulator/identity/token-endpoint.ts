import { randomBytes } from 'node:crypto';
import express, { Router, Request } from 'express';
import { SimState } from '../state';
import { sendAadError } from './aad-error';
import { tenantNotFound } from './openid';
import { decodeJwt, signRs256, verifyJwtSignature } from '../util/jwt';
import { findServicePrincipalByAppId, grantedRoles } from './consent';
import { GRAPH_AUDIENCE } from './permissions';
import { PublisherApp } from './apps';

const ACCESS_TOKEN_LIFETIME_S = 3599;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * v2 token endpoint, client credentials only:
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * Error statuses and codes follow
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow (400 by default, 401 for
 * client authentication failures).
 */
export function tokenRouter(state: SimState): Router {
  const r = Router();
  r.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false }), async (req, res) => {
    const delay = state.faults.delayMs();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const basic = parseBasicAuth(req);
    const clientId = body.client_id ?? basic?.id;
    const clientSecret = body.client_secret ?? basic?.secret;
    const tenant = state.findTenant(req.params.tenant as string);
    const fail = (status: number, error: string, code: number, description: string) => {
      state.log({ kind: 'token', tenantId: tenant?.id, appId: clientId, method: 'POST', url: req.originalUrl, status });
      sendAadError(res, status, error, code, description);
    };
    if (!tenant) return fail(400, 'invalid_request', 90002, tenantNotFound(req.params.tenant as string));
    if (body.grant_type !== 'client_credentials') {
      return fail(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${body.grant_type ?? ''}'. The simulator supports client_credentials only.`,
      );
    }
    if (!clientId) {
      return fail(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    }
    const scopes = (body.scope ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) {
      return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    }
    if (!scopes.every((s) => s.endsWith('/.default'))) {
      // https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
      return fail(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${body.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resources = new Set(scopes.map((s) => s.slice(0, -'/.default'.length).replace(/\/$/, '')));
    if (resources.size > 1) {
      return fail(
        400,
        'invalid_scope',
        700022,
        'The provided value for the input parameter scope is not valid because it contains more than one resource.',
      );
    }
    const resource = [...resources][0];
    if (resource !== GRAPH_AUDIENCE && resource !== '00000003-0000-0000-c000-000000000000') {
      return fail(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}.`,
      );
    }
    const app = state.apps.get(clientId);
    if (!app) {
      // https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (HTTP 400 per third-party
      // captures).
      return fail(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    let appidacr = '1';
    if (body.client_assertion_type === JWT_BEARER && body.client_assertion) {
      const problem = checkAssertion(
        state,
        app,
        body.client_assertion,
        `${state.baseUrl}${req.originalUrl.split('?')[0]}`,
      );
      if (problem) return fail(401, 'invalid_client', problem.code, problem.message);
      appidacr = '2';
    } else if (clientSecret !== undefined) {
      const match = app.secrets.find((s) => s.value === clientSecret);
      if (!match) {
        return fail(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
      if (Date.parse(match.endDateTime) < state.clock.now()) {
        return fail(
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
        );
      }
    } else {
      return fail(
        401,
        'invalid_client',
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      );
    }
    const sp = findServicePrincipalByAppId(tenant, clientId);
    if (!sp) {
      // https://github.com/microsoft/teams-sdk/blob/main/teams.md/docs/main/teams/app-authentication/troubleshooting.md,
      // https://learn.microsoft.com/en-us/entra/identity-platform/deprecate-service-principal-less-authentication: no
      // service-principal-less tokens in 2026.
      return fail(
        401,
        'invalid_client',
        7000229,
        `The client application ${clientId} is missing service principal in the tenant ${tenant.id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
      );
    }
    const now = Math.floor(state.clock.now() / 1000);
    const roles = [...grantedRoles(tenant, clientId)];
    const iss = `https://sts.windows.net/${tenant.id}/`;
    const claims: Record<string, unknown> = {
      aud: GRAPH_AUDIENCE,
      iss,
      iat: now,
      nbf: now,
      exp: now + ACCESS_TOKEN_LIFETIME_S,
      app_displayname: app.displayName,
      appid: clientId,
      appidacr,
      idp: iss,
      idtyp: 'app',
      oid: sp.id,
      // Tokens are issued without a roles claim when nothing is granted
      // (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments?view=graph-rest-1.0).
      ...(roles.length ? { roles } : {}),
      sub: sp.id,
      tid: tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      xms_sim_iat_ms: state.clock.now(),
    };
    const token = signRs256(claims, state.signingKey.privateKey, state.signingKey.kid);
    state.log({
      kind: 'token',
      tenantId: tenant.id,
      appId: clientId,
      method: 'POST',
      url: req.originalUrl,
      status: 200,
    });
    res
      .status(200)
      .type('application/json; charset=utf-8')
      .set('Cache-Control', 'no-store, no-cache')
      .send(
        JSON.stringify({
          token_type: 'Bearer',
          expires_in: ACCESS_TOKEN_LIFETIME_S,
          ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
          access_token: token,
        }),
      );
  });
  return r;
}

function parseBasicAuth(req: Request): { id: string; secret: string } | undefined {
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return undefined;
  const [id, ...rest] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
  return { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(':')) };
}

/** Certificate credential: RFC 7523 assertion signed with the key of a certificate registered on the app. */
function checkAssertion(
  state: SimState,
  app: PublisherApp,
  assertion: string,
  tokenEndpoint: string,
): { code: number; message: string } | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return { code: 50027, message: 'JWT token is invalid or malformed.' };
  const x5tS256 = jwt.header['x5t#S256'];
  const x5t = jwt.header.x5t;
  const cert = app.certificates.find((c) => c.x5tS256 === x5tS256 || c.x5t === x5t);
  if (!cert) {
    return {
      code: 700027,
      message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(x5tS256 ?? x5t)}']`,
    };
  }
  if (!verifyJwtSignature(jwt, cert.publicKey)) {
    return { code: 700027, message: 'Client assertion failed signature validation.' };
  }
  const p = jwt.payload;
  if (p.iss !== app.clientId || p.sub !== app.clientId) {
    return { code: 700023, message: 'Client assertion audience claim does not match Realm issuer.' };
  }
  const aud = String(p.aud ?? '');
  if (aud.replace(/\/$/, '') !== tokenEndpoint.replace(/\/$/, '')) {
    return { code: 700024, message: 'Client assertion is not within its valid time range or audience is invalid.' };
  }
  if (typeof p.exp !== 'number' || p.exp * 1000 < Date.now()) {
    return { code: 700024, message: 'Client assertion is not within its valid time range.' };
  }
  return undefined;
}
