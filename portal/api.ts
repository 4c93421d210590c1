/// <reference lib="dom" />
/**
 * The portal's only way to the service: the public API, with the session cookie the browser sends by itself and the
 * CSRF token kept in this module's memory (never in storage, never in a URL). Every error is the API's problem+json.
 */

export interface Problem {
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

let csrfToken: string | undefined;

export function rememberCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError({ title: 'The API cannot be reached', status: 0, detail: 'check the network and try again' });
  }
  const text = await res.text();
  const parsed = text ? (safeJson(text) as unknown) : undefined;
  if (!res.ok) {
    const p = parsed as Partial<Problem> | undefined;
    throw new ApiError({
      title: p?.title ?? `${res.status} ${res.statusText}`,
      status: res.status,
      detail: p?.detail,
      errors: p?.errors,
    });
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A route the API of this deployment may not have yet (browse, export, restore, storage locations): 404 → null. */
export async function optionalApi<T>(path: string): Promise<T | null> {
  try {
    return await api<T>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.problem.status === 404) return null;
    throw err;
  }
}

/** Any failure as a problem the views can show: the API's own, or one that says what went wrong. */
export const problemOf = (err: unknown): Problem =>
  err instanceof ApiError ? err.problem : { title: 'The request failed', status: 0, detail: String(err) };
