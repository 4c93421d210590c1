import type { NextFunction, Request, Response } from 'express';
import type { AuditLog, AuditOutcome, Principal } from '../../accounts/types';
import { actorOf } from '../auth/principal';

interface AuditNote {
  action?: string;
  target?: string;
  /** Set by routes on refusals with a reason worth keeping (e.g. `plan downgrade from Archiver`); never secrets. */
  detail?: string;
}

/**
 * Lets a route name what it did, e.g. `auditAs(res, 'tenant.create', `tenant:${id}`)`. Without it the action is the
 * OpenAPI operation's `x-audit-action` (or `METHOD /path`) and the target is the request path.
 */
export function auditAs(res: Response, action: string, target?: string, detail?: string): void {
  const note = (res.locals.audit ??= {}) as AuditNote;
  note.action = action;
  if (target !== undefined) note.target = target;
  if (detail !== undefined) note.detail = detail;
}

export function outcomeOf(status: number): AuditOutcome {
  if (status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return 'succeeded';
}

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Records every state-changing call (any method but GET/HEAD/OPTIONS) once its response is finished, with the
 * outcome taken from the final status: refusals (401, 403, 404, 400, 409) are recorded too. Mounted before
 * authentication so that unauthenticated attempts are kept (under no reseller). Writing happens after the response;
 * a failed write is logged, never turned into an error for the caller.
 */
export interface AuditTrailOptions {
  onError?: (err: unknown) => void;
  skip?: (req: Request) => boolean;
  /** The action when the route names none, e.g. from the OpenAPI operation's `x-audit-action`. */
  actionOf?: (req: Request) => string | undefined;
  /** A reading method that still changes state (the consent callback is a GET by Microsoft's design): recorded too. */
  changesState?: (req: Request) => boolean;
}

export function auditTrail(audit: AuditLog, options: AuditTrailOptions = {}) {
  const onError = options.onError ?? ((err: unknown) => console.error('audit entry not written:', err));
  return (req: Request, res: Response, next: NextFunction): void => {
    if ((readOnly.has(req.method) && !options.changesState?.(req)) || options.skip?.(req)) return next();
    const at = new Date().toISOString();
    const path = req.path;
    const defaultAction = options.actionOf?.(req) ?? `${req.method} ${path}`;
    // 'close' also fires when the caller hangs up before the answer is sent.
    res.once('close', () => {
      const principal = res.locals.principal as Principal | undefined;
      const note = (res.locals.audit ?? {}) as AuditNote;
      audit
        .record({
          at,
          actor: (res.locals.auditActor as string | undefined) ?? actorOf(principal),
          action: note.action ?? defaultAction,
          target: note.target ?? path,
          outcome: outcomeOf(res.statusCode),
          detail: note.detail ?? (res.writableFinished ? String(res.statusCode) : `${res.statusCode}, caller hung up`),
          resellerId: principal?.resellerId,
        })
        .catch(onError);
    });
    next();
  };
}
