import { randomUUID } from 'node:crypto';
import express, { Router, Response } from 'express';
import { SimState } from '../state';
import { grantConsent } from './consent';
import { TenantStore } from '../store/tenant';
import { PublisherApp } from './apps';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function errorPage(res: Response, code: number, message: string): void {
  // Shown on the sign-in page, not redirected
  // (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes; "shown" is unverified). Status
  // 400 chosen.
  res
    .status(400)
    .type('html')
    .send(
      `<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id="error">AADSTS${code}: ${esc(message)}</p></body></html>`,
    );
}

interface ConsentParams {
  client_id: string;
  scope: string;
  redirect_uri: string;
  state?: string;
}

/**
 * Admin consent endpoint (https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent):
 * GET shows an Accept / Decline page, or answers at once when the tenant's consent mode is 'accept' / 'decline'.
 */
export function consentRouter(state: SimState): Router {
  const r = Router();

  const validate = (
    res: Response,
    tenantParam: string,
    q: Partial<ConsentParams>,
  ): { tenant: TenantStore; app: PublisherApp; p: ConsentParams } | undefined => {
    const tenant = state.findTenant(tenantParam);
    if (!tenant) {
      errorPage(res, 90002, `Tenant '${tenantParam}' not found.`);
      return undefined;
    }
    if (!q.client_id) {
      errorPage(res, 900144, "The request body must contain the following parameter: 'client_id'.");
      return undefined;
    }
    const app = state.apps.get(q.client_id);
    if (!app) {
      errorPage(
        res,
        700016,
        `Application with identifier '${q.client_id}' was not found in the directory '${tenant.displayName}'.`,
      );
      return undefined;
    }
    if (!q.redirect_uri || !app.redirectUris.includes(q.redirect_uri)) {
      errorPage(
        res,
        50011,
        `The redirect URI '${q.redirect_uri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'.`,
      );
      return undefined;
    }
    if (!q.scope) {
      errorPage(res, 900144, "The request body must contain the following parameter: 'scope'.");
      return undefined;
    }
    return { tenant, app, p: { client_id: q.client_id, scope: q.scope, redirect_uri: q.redirect_uri, state: q.state } };
  };

  const answer = (res: Response, tenant: TenantStore, app: PublisherApp, p: ConsentParams, accept: boolean) => {
    const url = new URL(p.redirect_uri);
    if (accept) {
      grantConsent(tenant, app, state.publisherTenantId, state.clock.iso());
      url.searchParams.set('admin_consent', 'True');
      url.searchParams.set('tenant', tenant.id);
      url.searchParams.set('scope', p.scope);
    } else {
      // Observed Cancel answer (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes): no
      // tenant parameter.
      const stamp = new Date()
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z');
      url.searchParams.set('error', 'access_denied');
      url.searchParams.set(
        'error_description',
        `AADSTS65004: User declined to consent to access the app.\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${stamp}`,
      );
      url.searchParams.set('error_uri', 'https://login.microsoftonline.com/error?code=65004');
      url.searchParams.set('admin_consent', 'True');
    }
    if (p.state !== undefined) url.searchParams.set('state', p.state);
    state.log({
      kind: 'consent',
      tenantId: tenant.id,
      appId: app.clientId,
      method: 'GET',
      url: '/adminconsent',
      status: 302,
      fault: accept ? undefined : 'declined',
    });
    res.redirect(302, url.toString());
  };

  r.get('/:tenant/v2.0/adminconsent', (req, res) => {
    const ok = validate(res, req.params.tenant, req.query as Partial<ConsentParams>);
    if (!ok) return;
    const { tenant, app, p } = ok;
    if (tenant.consentMode !== 'page') return answer(res, tenant, app, p, tenant.consentMode === 'accept');
    const hidden = (Object.entries(p) as [string, string | undefined][])
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v as string)}">`)
      .join('');
    const perms = app.requiredRoles.map((role) => `<li>${esc(role)} (Microsoft Graph, application)</li>`).join('');
    res.status(200).type('html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>Permissions requested</title>
<style>body{font-family:Segoe UI,sans-serif;max-width:36em;margin:3em auto}button{padding:.5em 2em;margin-right:1em}</style></head>
<body><h1>Permissions requested</h1><h2>Accept for your organization</h2>
<p><b>${esc(app.displayName)}</b> (unverified publisher) wants to sign in as itself in <b>${esc(tenant.displayName)}</b> (${esc(tenant.id)}) with these permissions:</p>
<ul>${perms}</ul>
<p>If you accept, this app will get access to the specified resources for all users in your organization.</p>
<form method="post" action="/${esc(tenant.id)}/v2.0/adminconsent">${hidden}
<button type="submit" name="decision" value="accept" id="accept">Accept</button>
<button type="submit" name="decision" value="decline" id="decline">Cancel</button></form>
</body></html>`);
  });

  r.post('/:tenant/v2.0/adminconsent', express.urlencoded({ extended: false }), (req, res) => {
    const body = (req.body ?? {}) as Partial<ConsentParams> & { decision?: string };
    const ok = validate(res, req.params.tenant as string, body);
    if (!ok) return;
    answer(res, ok.tenant, ok.app, ok.p, body.decision === 'accept');
  });
  return r;
}
