import assert from 'node:assert/strict';
import { canonicalBytes, canonicalJson, contentId, isCanonicalAsIs, sha256Hex } from '../../storage/canonical-json';

/** A copy with every object's keys inserted in sorted order (as manifest entries are built). */
function sortedKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => sortedKeys(item)) as T;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) if (obj[key] !== undefined) out[key] = sortedKeys(obj[key]);
  return out as T;
}

/** RFC 8785's ordering, written the obvious way, to check the fast path against. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('storage: canonical JSON', () => {
  it('sorts keys recursively and drops whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives the same bytes for the same object whatever the key order', () => {
    const a = { id: '1', displayName: 'Zoë', proxyAddresses: ['SMTP:z@x'], nested: { x: true, w: 1.5 } };
    const b = { nested: { w: 1.5, x: true }, proxyAddresses: ['SMTP:z@x'], displayName: 'Zoë', id: '1' };
    assert.deepEqual(canonicalBytes(a), canonicalBytes(b));
    assert.equal(contentId(a), contentId(b));
    assert.equal(contentId(a), sha256Hex(Buffer.from(canonicalJson(a), 'utf8')));
  });

  it('keeps array order, escapes strings as JSON, encodes UTF-8, omits undefined members', () => {
    assert.equal(canonicalJson([2, 1]), '[2,1]');
    assert.equal(canonicalJson({ s: 'a"b\n', u: undefined }), '{"s":"a\\"b\\n"}');
    assert.equal(canonicalBytes({ n: 'é' }).length, '{"n":"é"}'.length + 1);
    // Names are quoted like strings (they are cached: the same name twice must not change anything).
    assert.equal(canonicalJson({ 'a"b': 1, 'x\\y': { 'a"b': 2 } }), '{"a\\"b":1,"x\\\\y":{"a\\"b":2}}');
    assert.equal(canonicalJson([undefined, { z: 1, a: [] }]), '[null,{"a":[],"z":1}]');
  });

  it('refuses values JSON cannot carry', () => {
    assert.throws(() => canonicalJson({ n: NaN }), /Non-finite/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /Cannot serialize/);
    // The message says where, so a bad value in a 100,000-object backup can be found.
    assert.throws(() => canonicalJson({ a: [{ b: 1 }, { c: Infinity }] }), /Non-finite number at \$\.a\[1\]\.c$/);
    assert.throws(() => canonicalJson(NaN), /Non-finite number at \$$/);
  });

  it('takes the fast path only where V8 writes the same bytes: sorted plain objects, finite numbers, no holes', () => {
    const values: unknown[] = [
      { b: 1, a: 2 },
      { 10: 'ten', 9: 'nine', a: [1, { y: 1, x: 2 }] },
      { a: [1, undefined, 3], é: 'x', Z: 'upper', _: 'low' },
      { nested: { deep: { z: [{ b: true, a: null }] } }, '@odata.type': '#microsoft.graph.user' },
      { n: -0.5e-7, big: 1e21, s: 'quote " and \\ and \u2028 and \ud800' },
    ];
    for (const value of values) {
      const expected = reference(value);
      assert.equal(canonicalJson(value), expected);
      assert.equal(canonicalJson(sortedKeys(value)), expected);
      assert.equal(canonicalJson(JSON.parse(expected)), expected);
    }
    assert.equal(isCanonicalAsIs(sortedKeys({ b: 1, a: { d: 1, c: [2] } })), true);
    assert.equal(isCanonicalAsIs({ b: 1, a: 2 }), false);
    // Index-like keys enumerate numerically ("9" before "10"); canonical order is by code unit ("10" first).
    assert.equal(isCanonicalAsIs(sortedKeys({ 10: 1, 9: 2 })), false);
    assert.equal(isCanonicalAsIs({ a: [1, undefined] }), false);
    assert.equal(isCanonicalAsIs({ a: NaN }), false);
    assert.equal(isCanonicalAsIs({ when: new Date(0) }), false);
    assert.throws(() => canonicalJson(sortedKeys({ a: 1, b: Infinity })), /Non-finite number at \$\.b$/);
  });

  it('round-trips: parsing canonical JSON and serialising again gives identical bytes', () => {
    const value = { '@odata.type': '#microsoft.graph.user', id: 'x', list: [{ b: 2, a: 1 }], n: -0.25e-7 };
    const once = canonicalJson(value);
    assert.equal(canonicalJson(JSON.parse(once)), once);
  });
});
