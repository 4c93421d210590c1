import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units (as RFC 8785 does), no insignificant whitespace, UTF-8.
 * Two captures of an unchanged object give the same bytes, hence the same content id: that is what deduplicates.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$');
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Content id of stored bytes: lower-case hex SHA-256. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function contentId(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

function serialize(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // NaN and Infinity have no JSON form; silently writing null would change the object.
      if (!Number.isFinite(value)) throw new TypeError(`Non-finite number at ${where}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => (v === undefined ? 'null' : serialize(v, `${where}[${i}]`))).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(obj[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Cannot serialize ${typeof value} at ${where}`);
  }
}
