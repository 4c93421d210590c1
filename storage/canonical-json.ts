import { hash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units (as RFC 8785 does), no insignificant whitespace, UTF-8.
 * Two captures of an unchanged object give the same bytes, hence the same content id: that is what deduplicates.
 */
export function canonicalJson(value: unknown): string {
  // Objects built (or parsed) with their keys in canonical order need no rewriting: V8's own serialiser is faster,
  // and gives the same bytes for such values.
  if ((typeof value === 'object' && value !== null && knownAsIs.has(value)) || isCanonicalAsIs(value)) {
    return JSON.stringify(value);
  }
  try {
    return serialize(value);
  } catch (err) {
    if (err instanceof UnserializableValue)
      throw new TypeError(`${err.message} at ${whereUnserializable(value, '$')}`, { cause: err });
    throw err;
  }
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** Content id of stored bytes: lower-case hex SHA-256. */
export function sha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}

export function contentId(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

class UnserializableValue extends Error {}

/**
 * Objects their builder checked while building them (see markCanonicalAsIs): canonicalJson need not walk them again.
 */
const knownAsIs = new WeakSet<object>();

/**
 * Records that `value` is canonical as is (what isCanonicalAsIs would say), for a builder that checked each member as
 * it added it. The caller must not change the object afterwards.
 */
export function markCanonicalAsIs(value: object): void {
  knownAsIs.add(value);
}

/**
 * True when JSON.stringify(value) is already canonical: plain objects whose keys enumerate in sorted order (an
 * index-like key such as "10" enumerates before "9" and fails this, as it should), no undefined in arrays, finite
 * numbers, no functions or other objects (Dates, Buffers) that JSON.stringify would convert its own way.
 */
export function isCanonicalAsIs(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined || !isCanonicalAsIs(item)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      for (let i = 0; i < keys.length; i++) {
        if (i > 0 && !(keys[i - 1] < keys[i])) return false;
        const member = obj[keys[i]];
        if (member !== undefined && !isCanonicalAsIs(member)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** The path of the first value `serialize` refuses; only walked after it refused one, so no path is built otherwise. */
function whereUnserializable(value: unknown, path: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value !== 'object') return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = whereUnserializable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj).sort()) {
    const found = whereUnserializable(obj[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Quoted property names. A backup serialises millions of objects with the same few hundred names; quoting each anew
 * was a third of the time. Bounded, because a name can be data (e.g. an extension's key).
 */
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 10_000;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(name, quoted);
  }
  return quoted;
}

function serialize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // NaN and Infinity have no JSON form; silently writing null would change the object.
      if (!Number.isFinite(value)) throw new UnserializableValue('Non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : serialize(item));
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      let out = '{';
      for (const key of Object.keys(obj).sort()) {
        const member = obj[key];
        if (member === undefined) continue;
        out += (out.length === 1 ? '' : ',') + quoteName(key) + ':' + serialize(member);
      }
      return out + '}';
    }
    default:
      throw new UnserializableValue(`Cannot serialize ${typeof value}`);
  }
}
