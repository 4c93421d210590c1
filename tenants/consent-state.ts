import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EntraApp } from './types';

/**
 * The `state` parameter of an admin-consent request: signed (HMAC-SHA256), bound to one tenant, one app and one
 * request nonce, with an expiry. The signature stops forgery; the nonce, which the tenant workflow accepts once,
 * stops replay. Microsoft returns `state` untouched (https://learn.microsoft.com/entra/identity-platform/v2-admin-consent).
 */
export interface ConsentStateClaims {
  tenantId: string;
  app: EntraApp;
  nonce: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

const b64url = (b: Buffer) => b.toString('base64url');

function keyBytes(key: string): Buffer {
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length < 32) throw new Error('CONSENT_STATE_KEY must be at least 32 bytes, base64-encoded');
  return bytes;
}

export function signConsentState(claims: ConsentStateClaims, key: string): string {
  const body = b64url(Buffer.from(JSON.stringify([claims.tenantId, claims.app, claims.nonce, claims.expiresAt])));
  const mac = createHmac('sha256', keyBytes(key)).update(body).digest();
  return `${body}.${b64url(mac)}`;
}

export type StateCheck = { ok: true; claims: ConsentStateClaims } | { ok: false; reason: string };

export function verifyConsentState(state: string, key: string, now = Date.now()): StateCheck {
  const [body, mac, extra] = state.split('.');
  if (!body || !mac || extra !== undefined) return { ok: false, reason: 'malformed state' };
  const expected = createHmac('sha256', keyBytes(key)).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad signature' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed state' };
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return { ok: false, reason: 'malformed state' };
  const [tenantId, app, nonce, expiresAt] = parsed as [string, EntraApp, string, number];
  if (app !== 'backup' && app !== 'restore') return { ok: false, reason: 'malformed state' };
  if (expiresAt < now) return { ok: false, reason: 'consent request expired' };
  return { ok: true, claims: { tenantId, app, nonce, expiresAt } };
}
