import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys read `ebk_{resellerId}_{keyId}_{secret}`: the API finds the reseller's account workflow and the key record
 * from the key itself, then compares the secret's hash. Only the hash is ever stored (in the workflow's state); the
 * secret is shown once, by the operator command, and never enters Temporal.
 *
 * The secret is 32 random bytes, so a plain SHA-256 is enough: a slow hash (scrypt) only matters for guessable secrets.
 */
const prefix = 'ebk';
const idPattern = /^[a-z0-9-]{1,64}$/;

export interface ParsedApiKey {
  resellerId: string;
  keyId: string;
  secret: string;
}

export function isAccountId(id: string): boolean {
  return idPattern.test(id);
}

/** A new random id such as `rsl-3f9c1a2b7d4e`; ids never contain `_`, the key's separator. */
export function newAccountId(kind: 'rsl' | 'org' | 'key'): string {
  return `${kind}-${randomBytes(6).toString('hex')}`;
}

export function formatApiKey(resellerId: string, keyId: string, secret: string): string {
  return `${prefix}_${resellerId}_${keyId}_${secret}`;
}

export function parseApiKey(apiKey: string): ParsedApiKey | undefined {
  if (apiKey.length > 256) return undefined;
  const parts = apiKey.split('_');
  if (parts.length < 4 || parts[0] !== prefix) return undefined;
  const [, resellerId, keyId, ...rest] = parts;
  const secret = rest.join('_');
  if (!isAccountId(resellerId) || !isAccountId(keyId) || secret.length < 16) return undefined;
  return { resellerId, keyId, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** A fresh key: the string to hand over once, and what may be stored. */
export function generateApiKey(resellerId: string): { apiKey: string; keyId: string; secretHash: string } {
  const keyId = newAccountId('key');
  const secret = randomBytes(32).toString('base64url');
  return { apiKey: formatApiKey(resellerId, keyId, secret), keyId, secretHash: hashSecret(secret) };
}
