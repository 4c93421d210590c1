import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { gzipWindowBits, open, seal, sealCompressed, openCompressed, IntegrityError } from '../../storage/crypto';
import { DATA_KEY_FILE, loadOrCreateDataKey, MasterKey, WrongMasterKeyError } from '../../storage/data-keys';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { Repository } from '../../storage/repository';

describe('storage: keys and encryption', () => {
  it('parses a 32-byte base64 master key and rejects anything else without echoing it', () => {
    const good = Buffer.alloc(32, 7).toString('base64');
    assert.ok(MasterKey.fromBase64(good));
    const short = Buffer.alloc(16, 7).toString('base64');
    assert.throws(
      () => MasterKey.fromBase64(short),
      (err: Error) => /32 bytes/.test(err.message) && !err.message.includes(short),
    );
    assert.throws(() => MasterKey.fromBase64('not base64!'), /not valid base64/);
  });

  it('never prints key material', () => {
    const key = MasterKey.fromBase64(Buffer.alloc(32, 9).toString('base64'));
    const secretB64 = Buffer.alloc(32, 9).toString('base64');
    for (const shown of [inspect(key), JSON.stringify({ key }), `${key}`, String(key)]) {
      assert.ok(!shown.includes(secretB64) && !shown.includes('0909'), shown);
    }
  });

  it('seals with a random nonce and detects any modification', () => {
    const key = Buffer.alloc(32, 1);
    const a = seal(key, 'segment', Buffer.from('hello'));
    const b = seal(key, 'segment', Buffer.from('hello'));
    assert.notDeepEqual(a, b, 'nonces must differ');
    assert.equal(open(key, 'segment', a).toString(), 'hello');
    const tampered = Buffer.from(a);
    tampered[tampered.length - 20] ^= 1;
    assert.throws(() => open(key, 'segment', tampered), IntegrityError);
    assert.throws(() => open(key, 'index', a), IntegrityError, 'purpose is authenticated');
    const big = Buffer.from('x'.repeat(10_000));
    const sealed = sealCompressed(key, 'segment', big);
    assert.ok(sealed.length < 1000, 'gzip before encryption');
    assert.deepEqual(openCompressed(key, 'segment', sealed), big);
  });

  it('compresses what it seals with a window sized to it: as small as zlib defaults, and readable back', () => {
    const key = Buffer.alloc(32, 2);
    let seed = 1;
    const word = () =>
      ['alpha', 'beta', 'gamma', 'delta', 'tenant', 'user', 'group'][(seed = (seed * 48271) % 2147483647) % 7];
    for (const length of [0, 1, 200, 250, 251, 511, 1500, 1786, 1787, 4000, 33_000, 200_000]) {
      const text = Array.from({ length: Math.ceil(length / 4) }, word)
        .join(' ')
        .slice(0, length);
      const plain = Buffer.from(text);
      assert.deepEqual(openCompressed(key, 'segment', sealCompressed(key, 'segment', plain)), plain, `${length} bytes`);
      // Sealing adds the same bytes either way; the compressed body is what the window could change.
      assert.equal(
        gzipSync(plain, { windowBits: gzipWindowBits(plain.length) }).length,
        gzipSync(plain).length,
        `${length} bytes compress as with the default window`,
      );
    }
    assert.equal(gzipWindowBits(1500), 11);
    assert.equal(gzipWindowBits(1_000_000), 15);
  });

  it('creates the data key once and unwraps it with the same master key', async () => {
    const store = new MemoryObjectStore();
    const master = MasterKey.generate();
    const first = await loadOrCreateDataKey(store, master);
    const second = await loadOrCreateDataKey(store, master);
    assert.deepEqual(first.bytes(), second.bytes());
    const file = (await store.get(DATA_KEY_FILE))?.toString('utf8') ?? '';
    assert.ok(!file.includes(first.bytes().toString('base64')), 'the data key is stored wrapped only');
  });

  it('fails clearly with the wrong master key', async () => {
    const store = new MemoryObjectStore();
    await Repository.open(store, MasterKey.generate());
    await assert.rejects(Repository.open(store, MasterKey.generate()), WrongMasterKeyError);
    await assert.rejects(Repository.open(store, MasterKey.generate()), /wrong master key/);
  });
});
