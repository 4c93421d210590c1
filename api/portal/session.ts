import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/**
 * The portal's sign-in session: the API key a reseller typed once, sealed (AES-256-GCM) with its expiry into an
 * HttpOnly cookie. Nothing is stored server-side, so every API replica accepts the session, and every request
 * authenticates the sealed key again exactly like an `Authorization` header: revoking the key ends its sessions
 * (within the accounts cache's few seconds). The page's script never sees the key: the cookie is HttpOnly, and the
 * CSRF token it gets is an HMAC of the cookie, useless without it.
 */
export const portalSessionCookie = 'entra_backup_session';
export const csrfHeader = 'x-csrf-token';

export interface PortalSessionOptions {
  /** Key material every API replica shares (PORTAL_SESSION_KEY, else the payload encryption key). */
  secret: string;
  lifetimeMs: number;
}

export interface OpenedSession {
  apiKey: string;
  expiresAt: number;
}

export class PortalSessions {
  private readonly sealKey: Buffer;
  private readonly csrfKey: Buffer;
  readonly lifetimeMs: number;

  constructor(options: PortalSessionOptions) {
    const ikm = Buffer.from(options.secret, 'base64');
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
    this.sealKey = derive('entra-backup portal session seal v1');
    this.csrfKey = derive('entra-backup portal session csrf v1');
    this.lifetimeMs = options.lifetimeMs;
  }

  seal(apiKey: string, now = Date.now()): { cookie: string; expiresAt: number } {
    const expiresAt = now + this.lifetimeMs;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ k: apiKey, e: expiresAt }), 'utf8'), cipher.final()]);
    return { cookie: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'), expiresAt };
  }

  /** The sealed key, or undefined when the cookie is forged, damaged or expired. */
  open(cookie: string, now = Date.now()): OpenedSession | undefined {
    const raw = Buffer.from(cookie, 'base64url');
    if (raw.length < 12 + 16 + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      const { k, e } = JSON.parse(plain.toString('utf8')) as { k: string; e: number };
      return typeof k === 'string' && typeof e === 'number' && e > now ? { apiKey: k, expiresAt: e } : undefined;
    } catch {
      return undefined;
    }
  }

  csrfToken(cookie: string): string {
    return createHmac('sha256', this.csrfKey).update(cookie).digest('base64url');
  }

  csrfMatches(cookie: string, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfToken(cookie));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** Secure when the browser reached us over HTTPS (directly, or through a proxy Express trusts). */
export function cookieAttributes(req: Request, publicUrl: string, maxAgeMs: number): string {
  const secure = req.secure || publicUrl.startsWith('https:');
  return [
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
