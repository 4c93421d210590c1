import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccountsDirectory } from '../../accounts/types';
import { sendProblem } from '../problem';

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
  options: { isPublic?: (req: Request) => boolean | undefined } = {},
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (options.isPublic?.(req)) return next();
    const apiKey = presentedApiKey(req);
    const principal = apiKey ? await accounts.authenticate(apiKey) : undefined;
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer realm="entra-backup"');
      return sendProblem(res, {
        title: 'Unauthorized',
        status: 401,
        detail: apiKey
          ? 'the API key is unknown or revoked'
          : 'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
      });
    }
    res.locals.principal = principal;
    next();
  };
}
