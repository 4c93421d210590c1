import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccountsDirectory } from '../../accounts/types';
import { sendProblem } from '../problem';
import { readCookie } from '../codec/operator-session';
import { csrfHeader, portalSessionCookie, type PortalSessions } from '../portal/session';

const readOnlyMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The API key of a request: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function presentedApiKey(req: Request): string | undefined {
  const authorization = req.get('authorization');
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? req.get('x-api-key')?.trim() ?? undefined;
}

/**
 * Resolves the API key to a Principal on `res.locals.principal`, or answers 401 problem+json. Missing, malformed,
 * unknown and revoked keys get the same answer, so a caller learns nothing about which it was. Requests for which
 * `isPublic` answers true (operations the OpenAPI document declares `security: []`) pass without a key.
 */
export function authenticate(
  accounts: AccountsDirectory,
  options: { isPublic?: (req: Request) => boolean | undefined; sessions?: PortalSessions } = {},
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (options.isPublic?.(req)) return next();
    let apiKey = presentedApiKey(req);
    // The portal's session cookie: another way to present the same key. Cookies ride along on requests other sites
    // make the browser send, so a state-changing request must also carry the CSRF token only our page can read.
    const cookie = !apiKey && options.sessions ? readCookie(req.get('cookie'), portalSessionCookie) : undefined;
    if (cookie && options.sessions) {
      apiKey = options.sessions.open(cookie)?.apiKey;
      if (apiKey && !readOnlyMethods.has(req.method) && !options.sessions.csrfMatches(cookie, req.get(csrfHeader))) {
        return sendProblem(res, {
          title: 'Forbidden',
          status: 403,
          detail: `a signed-in request that changes something must carry the ${csrfHeader} header of its session`,
        });
      }
      if (apiKey) res.locals.sessionCookie = cookie;
    }
    const principal = apiKey ? await accounts.authenticate(apiKey) : undefined;
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer realm="entra-backup"');
      return sendProblem(res, {
        title: 'Unauthorized',
        status: 401,
        detail: apiKey
          ? 'the API key is unknown or revoked'
          : cookie
            ? 'the session has expired or was ended: sign in again'
            : 'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
      });
    }
    res.locals.principal = principal;
    next();
  };
}
