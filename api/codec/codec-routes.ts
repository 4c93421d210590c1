import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { PayloadCodec } from '@temporalio/common';
import type { CodecEndpointConfig } from '../../temporal.config';
import { ProblemError, sendProblem } from '../problem';
import { auditAs } from '../audit/audit-trail';
import { payloadsFromJson, payloadsToJson } from './payload-json';
import {
  newSession,
  readCookie,
  sessionCookieName,
  sessionLifetimeMs,
  sessionValid,
  tokenMatches,
} from './operator-session';

/**
 * Temporal's codec-server protocol (`POST {endpoint}/decode` and `/encode`, `{payloads: [...]}` in base64) so the
 * Web UI shows decrypted payloads. Operators only: reseller API keys are not accepted, since one namespace holds every
 * reseller's workflows. See README "Codec endpoint" for how the Web UI authenticates.
 */
export function codecRoutes(deps: { codec: PayloadCodec; config: CodecEndpointConfig; namespace: string }): Router {
  const router = Router();
  const token = deps.config.authToken;

  router.use('/codec', (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin && deps.config.allowedOrigins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        Vary: 'Origin',
      });
      if (req.method === 'OPTIONS') {
        res
          .set({
            'Access-Control-Allow-Methods': 'POST, OPTIONS',
            'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
            'Access-Control-Max-Age': '600',
          })
          .status(204)
          .end();
        return;
      }
    }
    if (!token) {
      return sendProblem(res, {
        title: 'Not found',
        status: 404,
        detail: 'the codec endpoint is disabled: set CODEC_AUTH_TOKEN to enable it',
      });
    }
    next();
  });

  router.get('/codec/login', (_req, res) => {
    res.type('html').send(loginPage(''));
  });

  router.post(
    '/codec/login',
    express.urlencoded({ extended: false, limit: '4kb' }),
    express.json({ limit: '4kb' }),
    (req, res) => {
      res.locals.auditActor = 'operator';
      auditAs(res, 'codec.login', 'codec');
      const presented = (req.body as { token?: unknown } | undefined)?.token;
      if (typeof presented !== 'string' || !tokenMatches(presented, token!)) {
        // The sign-in form (a browser asking for HTML) shows the page again; any other caller gets problem+json.
        if (req.accepts(['json', 'html']) === 'html') {
          res.status(401).type('html').send(loginPage('That is not the codec token.'));
          return;
        }
        throw new ProblemError({ title: 'Unauthorized', status: 401, detail: 'that is not the codec token' });
      }
      res.cookie(sessionCookieName, newSession(token!), {
        httpOnly: true,
        // The Web UI and the API share a site (same host, or subdomains of one domain), so Strict still lets the UI's
        // credentialed fetch carry the cookie, while no other site can.
        sameSite: 'strict',
        secure: req.secure,
        path: '/codec',
        maxAge: sessionLifetimeMs,
      });
      res
        .type('html')
        .send('<!doctype html><p>Signed in: the Temporal Web UI can now decode payloads for 12 hours.</p>');
    },
  );

  router.post('/codec/logout', (_req, res) => {
    res.clearCookie(sessionCookieName, { path: '/codec' });
    res.status(204).end();
  });

  const authorized = (req: Request, _res: Response, next: NextFunction) => {
    const bearer = req.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const cookie = readCookie(req.get('cookie'), sessionCookieName);
    const ok = (bearer !== undefined && tokenMatches(bearer, token!)) || (!!cookie && sessionValid(cookie, token!));
    if (!ok) {
      throw new ProblemError({
        title: 'Unauthorized',
        status: 401,
        detail: 'the codec endpoint needs the operator codec token (Bearer) or a session from /codec/login',
      });
    }
    const namespace = req.get('x-namespace');
    if (namespace && namespace !== deps.namespace) {
      throw new ProblemError({
        title: 'Invalid request',
        status: 400,
        detail: `this codec serves namespace '${deps.namespace}', not '${namespace}'`,
      });
    }
    next();
  };

  const transform = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const payloads = payloadsFromJson(req.body);
    try {
      res.json(payloadsToJson(await deps.codec[direction](payloads)));
    } catch (err) {
      throw new ProblemError({
        title: 'Invalid request',
        status: 400,
        detail: `payloads cannot be ${direction}d: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  };

  const json = express.json({ limit: '20mb' });
  router.post('/codec/decode', authorized, json, transform('decode'));
  router.post('/codec/encode', authorized, json, transform('encode'));
  return router;
}

function loginPage(message: string): string {
  return `<!doctype html>
<title>entra-backup codec sign-in</title>
<h1>Decode payloads in the Temporal Web UI</h1>
<p>Paste the operator codec token (CODEC_AUTH_TOKEN). A cookie lets the Web UI decode payloads for 12 hours.</p>
${message ? `<p style="color:#b00">${message}</p>` : ''}
<form method="post" action="login">
  <input type="password" name="token" autocomplete="off" size="48" autofocus>
  <button>Sign in</button>
</form>`;
}
