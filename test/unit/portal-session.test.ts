import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PortalSessions } from '../../api/portal/session';

describe('portal sessions', () => {
  const secret = randomBytes(32).toString('base64');
  const sessions = new PortalSessions({ secret, lifetimeMs: 60_000 });

  it('seals the key so the cookie neither shows it nor opens under another key or after expiry', () => {
    const apiKey = 'ebk_rsl-1_key-1_supersecretvalue';
    const { cookie, expiresAt } = sessions.seal(apiKey, 1_000);
    assert.equal(expiresAt, 61_000);
    assert.ok(!Buffer.from(cookie, 'base64url').toString('latin1').includes('supersecret'));
    assert.deepEqual(sessions.open(cookie, 2_000), { apiKey, expiresAt: 61_000 });
    assert.equal(sessions.open(cookie, 61_000), undefined, 'expired');
    const other = new PortalSessions({ secret: randomBytes(32).toString('base64'), lifetimeMs: 60_000 });
    assert.equal(other.open(cookie, 2_000), undefined, 'another replica set with another key');
    const raw = Buffer.from(cookie, 'base64url');
    raw[20] ^= 1;
    assert.equal(sessions.open(raw.toString('base64url'), 2_000), undefined, 'tampered');
  });

  it('derives a CSRF token from the cookie that a different cookie does not match', () => {
    const a = sessions.seal('ebk_a_b_c').cookie;
    const b = sessions.seal('ebk_a_b_c').cookie;
    assert.ok(sessions.csrfMatches(a, sessions.csrfToken(a)));
    assert.ok(!sessions.csrfMatches(a, sessions.csrfToken(b)));
    assert.ok(!sessions.csrfMatches(a, undefined));
    assert.ok(!sessions.csrfMatches(a, ''));
  });
});
