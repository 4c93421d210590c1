import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DefaultPayloadConverter } from '@temporalio/common';
import { ENCRYPTED_ENCODING, EncryptionCodec } from '../../temporal/encryption-codec';
import { loadConfig } from '../../temporal.config';

describe('EncryptionCodec (AES-256-GCM)', () => {
  const converter = new DefaultPayloadConverter();
  const secret = { apiKeySecret: 'super-secret-value-123' };
  const key1 = { id: 'k1', key: randomBytes(32) };
  const key2 = { id: 'k2', key: randomBytes(32) };

  it('round-trips payloads and leaves no plain text in the encrypted form', async () => {
    const codec = new EncryptionCodec({ current: key1 });
    const payload = converter.toPayload(secret);
    const [encrypted] = await codec.encode([payload]);
    assert.equal(Buffer.from(encrypted.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(encrypted.metadata!['encryption-key-id']!).toString(), 'k1');
    assert.ok(!Buffer.from(encrypted.data!).toString('latin1').includes('super-secret'));
    const [decoded] = await codec.decode([encrypted]);
    assert.deepEqual(converter.fromPayload(decoded), secret);
    // Two encryptions of the same value differ (random IV).
    const [again] = await codec.encode([payload]);
    assert.notDeepEqual(Buffer.from(again.data!), Buffer.from(encrypted.data!));
  });

  it('passes payloads it did not encrypt through unchanged', async () => {
    const codec = new EncryptionCodec({ current: key1 });
    const plain = converter.toPayload('hello');
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('fails with the wrong key, an unknown key id and altered ciphertext', async () => {
    const [encrypted] = await new EncryptionCodec({ current: key1 }).encode([converter.toPayload(secret)]);
    const wrongKey = new EncryptionCodec({ current: { id: 'k1', key: randomBytes(32) } });
    await assert.rejects(wrongKey.decode([encrypted]), /authenticate/);
    await assert.rejects(
      new EncryptionCodec({ current: key2 }).decode([encrypted]),
      /key 'k1', which is not configured/,
    );
    const data = Buffer.from(encrypted.data!);
    data[20] ^= 1;
    await assert.rejects(new EncryptionCodec({ current: key1 }).decode([{ ...encrypted, data }]), /authenticate/);
    // The key id is authenticated too: relabelling a payload with another configured key fails.
    const both = new EncryptionCodec({ current: key2, previous: [{ id: 'k1', key: key2.key }] });
    await assert.rejects(both.decode([encrypted]), /authenticate/);
  });

  it('rotates: new payloads use the current key, older ones still decrypt with a previous key', async () => {
    const [old] = await new EncryptionCodec({ current: key1 }).encode([converter.toPayload('old')]);
    const rotated = new EncryptionCodec({ current: key2, previous: [key1] });
    const [fresh] = await rotated.encode([converter.toPayload('new')]);
    assert.equal(Buffer.from(fresh.metadata!['encryption-key-id']!).toString(), 'k2');
    assert.deepEqual(
      (await rotated.decode([old, fresh])).map((p) => converter.fromPayload(p)),
      ['old', 'new'],
    );
  });

  it('refuses keys that are not 32 bytes', () => {
    assert.throws(() => new EncryptionCodec({ current: { id: 'x', key: randomBytes(16) } }), /32 bytes/);
  });

  describe('configuration', () => {
    it('uses the labelled development key outside production', () => {
      const c = loadConfig({});
      assert.equal(c.temporal.payloadEncryption.development, true);
      assert.equal(c.temporal.payloadEncryption.keyId, 'development-only');
    });

    it('refuses to start in production without a key, and reads key, id and previous keys', () => {
      const storageKey = randomBytes(32).toString('base64');
      assert.throws(
        () => loadConfig({ NODE_ENV: 'production', STORAGE_MASTER_KEY: storageKey }),
        /PAYLOAD_ENCRYPTION_KEY is required/,
      );
      const key = randomBytes(32).toString('base64');
      const old = randomBytes(32).toString('base64');
      const c = loadConfig({
        NODE_ENV: 'production',
        STORAGE_MASTER_KEY: storageKey,
        PAYLOAD_ENCRYPTION_KEY: key,
        PAYLOAD_ENCRYPTION_KEY_ID: '2026-11',
        PAYLOAD_DECRYPTION_KEYS: `2026-05=${old}`,
      });
      assert.deepEqual(c.temporal.payloadEncryption, {
        keyId: '2026-11',
        key,
        previousKeys: [{ id: '2026-05', key: old }],
        development: false,
      });
      assert.equal(c.api.codec.authToken, undefined);
      assert.throws(
        () =>
          loadConfig({
            NODE_ENV: 'production',
            STORAGE_MASTER_KEY: storageKey,
            PAYLOAD_ENCRYPTION_KEY: key,
            CODEC_AUTH_TOKEN: 'short',
          }),
        /CODEC_AUTH_TOKEN must be at least 32/,
      );
      assert.throws(() => loadConfig({ PAYLOAD_ENCRYPTION_KEY: 'c2hvcnQ=' }), /32 bytes/);
    });
  });
});
