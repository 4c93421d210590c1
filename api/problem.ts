import type { NextFunction, Request, Response } from 'express';

/** RFC 9457 problem details: every error the API returns has this shape and content type. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  /** For validation errors: the request fields at fault, e.g. `body.tenantId`. */
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export const badRequest = (field: string, message: string) =>
  new ProblemError({
    title: 'Invalid request',
    status: 400,
    detail: `${field}: ${message}`,
    errors: [{ field, message }],
  });

export const notFound = (what: string) =>
  new ProblemError({ title: 'Not found', status: 404, detail: `${what} was not found` });

export function sendProblem(res: Response, problem: Problem): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', ...problem }));
}

/** Last middleware: turns thrown ProblemErrors into their body and anything else into an opaque 500. */
export function problemHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (err instanceof ProblemError) return sendProblem(res, err.problem);
  const status = (err as { status?: number; type?: string }).status;
  if (status && status >= 400 && status < 500) {
    // body-parser's errors (malformed JSON, too large) carry a status and a safe message
    return sendProblem(res, { title: 'Invalid request', status, detail: (err as Error).message });
  }
  console.error(err);
  sendProblem(res, { title: 'Internal server error', status: 500 });
}
