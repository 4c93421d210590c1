import { Router } from 'express';
import type { AccountsDirectory, Principal } from '../../accounts/types';
import { principalOf } from '../auth';
import { auditAs } from '../audit/audit-trail';
import { sendProblem } from '../problem';
import { cookieAttributes, portalSessionCookie, type PortalSessions } from './session';

const describe = (p: Principal) =>
  p.kind === 'reseller'
    ? { kind: p.kind, resellerId: p.resellerId, keyId: p.keyId }
    : { kind: p.kind, resellerId: p.resellerId, organizationId: p.organizationId, keyId: p.keyId };

/**
 * Sign-in for the portal: `POST /session` exchanges an API key for the session cookie and answers the CSRF token the
 * page keeps in memory; `GET /session` says who is signed in (and gives the token again after a reload);
 * `DELETE /session` signs out.
 */
export function sessionRoutes(deps: { accounts: AccountsDirectory; sessions: PortalSessions; publicUrl: string }) {
  const router = Router();

  router.post('/session', async (req, res) => {
    const { apiKey } = req.body as { apiKey: string };
    auditAs(res, 'session.create', 'session');
    const principal = await deps.accounts.authenticate(apiKey.trim());
    if (!principal) {
      return sendProblem(res, { title: 'Unauthorized', status: 401, detail: 'the API key is unknown or revoked' });
    }
    res.locals.principal = principal;
    const { cookie, expiresAt } = deps.sessions.seal(apiKey.trim());
    res.set('Cache-Control', 'no-store');
    res.append(
      'Set-Cookie',
      `${portalSessionCookie}=${cookie}; ${cookieAttributes(req, deps.publicUrl, deps.sessions.lifetimeMs)}`,
    );
    res.status(201).json({
      principal: describe(principal),
      expiresAt: new Date(expiresAt).toISOString(),
      csrfToken: deps.sessions.csrfToken(cookie),
    });
  });

  router.get('/session', (_req, res) => {
    const cookie = res.locals.sessionCookie as string | undefined;
    const opened = cookie ? deps.sessions.open(cookie) : undefined;
    res.set('Cache-Control', 'no-store');
    res.json({
      principal: describe(principalOf(res)),
      ...(cookie && opened
        ? { expiresAt: new Date(opened.expiresAt).toISOString(), csrfToken: deps.sessions.csrfToken(cookie) }
        : {}),
    });
  });

  router.delete('/session', (req, res) => {
    auditAs(res, 'session.delete', 'session');
    res.append('Set-Cookie', `${portalSessionCookie}=; ${cookieAttributes(req, deps.publicUrl, 0)}`);
    res.status(204).end();
  });

  return router;
}
