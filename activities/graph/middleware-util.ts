import type { Context } from '@microsoft/microsoft-graph-client';

/**
 * Small request accessors shared by our handlers. graph-client's own helpers (MiddlewareUtil) are not exported from
 * the package root, so these mirror them for the shapes GraphRequest produces (a URL string and plain-object headers).
 */
export function requestUrl(context: Context): string {
  return typeof context.request === 'string' ? context.request : context.request.url;
}

export function requestMethod(context: Context): string {
  const fromOptions = context.options?.method;
  if (fromOptions) return fromOptions.toUpperCase();
  return typeof context.request === 'string' ? 'GET' : context.request.method.toUpperCase();
}

export function setRequestHeader(context: Context, name: string, value: string): void {
  context.options ??= {};
  const headers = context.options.headers;
  if (headers instanceof Headers) {
    headers.set(name, value);
  } else if (Array.isArray(headers)) {
    const i = headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
    if (i >= 0) headers[i] = [name, value];
    else headers.push([name, value]);
  } else {
    const record: Record<string, unknown> = { ...(headers ?? {}) };
    for (const k of Object.keys(record)) if (k.toLowerCase() === name.toLowerCase()) delete record[k];
    record[name] = value;
    context.options.headers = record as Record<string, string>;
  }
}

/** A response we are about to retry past: its body is never read, so release the connection now. */
export async function discardBody(response: Response | undefined): Promise<void> {
  try {
    await response?.body?.cancel();
  } catch {
    // The body may already be consumed or the socket gone; nothing to release then.
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Fails loudly at start-up instead of at the first request when a handler was not chained. */
export function requireNext<T>(next: T | undefined, who: string): T {
  if (!next) throw new Error(`${who} has no next middleware: it must not be last in the chain`);
  return next;
}
