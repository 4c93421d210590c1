import assert from 'node:assert/strict';
import { formatApiKey, generateApiKey, hashSecret, parseApiKey, secretMatches } from '../../accounts/api-key';

describe('API keys', () => {
  it('carry the reseller and key ids; only the hash of the secret is kept', () => {
    const { apiKey, keyId, secretHash } = generateApiKey('rsl-abc');
    const parsed = parseApiKey(apiKey)!;
    assert.equal(parsed.resellerId, 'rsl-abc');
    assert.equal(parsed.keyId, keyId);
    assert.equal(secretHash, hashSecret(parsed.secret));
    assert.ok(!secretHash.includes(parsed.secret));
    assert.ok(secretMatches(parsed.secret, secretHash));
    assert.ok(!secretMatches(`${parsed.secret}x`, secretHash));
  });

  it('keeps underscores inside the secret and refuses malformed keys', () => {
    const key = formatApiKey('rsl-a', 'key-b', 'abc_def_ghi_jkl_mno_pqr');
    assert.equal(parseApiKey(key)?.secret, 'abc_def_ghi_jkl_mno_pqr');
    for (const bad of [
      '',
      'ebk_',
      'xyz_rsl-a_key-b_0123456789abcdef',
      'ebk_RSL_key-b_0123456789abcdef',
      'ebk_r_k_short',
    ]) {
      assert.equal(parseApiKey(bad), undefined, bad);
    }
  });
});
