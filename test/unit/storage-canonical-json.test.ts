import assert from 'node:assert/strict';
import { canonicalBytes, canonicalJson, contentId, sha256Hex } from '../../storage/canonical-json';

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

  it('round-trips: parsing canonical JSON and serialising again gives identical bytes', () => {
    const value = { '@odata.type': '#microsoft.graph.user', id: 'x', list: [{ b: 2, a: 1 }], n: -0.25e-7 };
    const once = canonicalJson(value);
    assert.equal(canonicalJson(JSON.parse(once)), once);
  });
});
