import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The codec endpoint's operator authentication: the operator token itself (`Authorization: Bearer`, for the Temporal
 * CLI's `--codec-auth` and for UIs that pass an access token), or a session cookie the browser got from
 * `POST /codec/login`. The cookie holds an expiry and an HMAC keyed by the token, never the token: changing
 * `CODEC_AUTH_TOKEN` ends every session.
 */
export const sessionCookieName = 'entra_backup_codec';
export const sessionLifetimeMs = 12 * 60 * 60 * 1000;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function tokenMatches(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

function signature(token: string, expiresAt: number): string {
  return createHmac('sha256', digest(`codec-session|${token}`))
    .update(String(expiresAt))
    .digest('base64url');
}

export function newSession(token: string, now = Date.now()): string {
  const expiresAt = now + sessionLifetimeMs;
  return `${expiresAt}.${signature(token, expiresAt)}`;
}

export function sessionValid(cookie: string, token: string, now = Date.now()): boolean {
  const [expires, mac] = cookie.split('.');
  const expiresAt = Number(expires);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < now || !mac) return false;
  const expected = Buffer.from(signature(token, expiresAt));
  const presented = Buffer.from(mac);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}
