import assert from 'node:assert/strict';
import { LruCache, perTenantCacheLimits } from '../../activities/lru-cache';
import { RetryAfterGates } from '../../activities/graph/retry-after';
import { PacerRegistry } from '../../activities/graph/pacer';

const app = '0f3c1f47-7a57-4e50-9a5c-1c1d3f5b0b01';
const tenant = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe('per-tenant caches: bounded', () => {
  it('keeps the most recently used entries and skips those in use', () => {
    const inUse = new Set(['b']);
    const cache = new LruCache<string, number>(3, (v) => !inUse.has(String.fromCharCode(96 + v)));
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), 1); // a is now the most recent: b, c, a
    cache.set('d', 4); // b is in use, so c goes
    assert.equal(cache.size, 3);
    assert.equal(cache.get('c'), undefined);
    assert.deepEqual(
      ['a', 'b', 'd'].map((k) => cache.get(k)),
      [1, 2, 4],
    );
  });

  it('forgets open Retry-After gates of idle tenants, never a closed one', () => {
    const gates = new RetryAfterGates();
    const closed = gates.get(app, tenant(0));
    closed.closeUntil(Date.now() + 60_000);
    const open = gates.get(app, tenant(1));
    for (let i = 2; i < perTenantCacheLimits.retryAfterGates + 50; i++) gates.get(app, tenant(i));
    assert.equal(gates.get(app, tenant(0)), closed, 'a closed gate survives');
    assert.ok(gates.get(app, tenant(0)).remainingMs() > 50_000);
    assert.notEqual(gates.get(app, tenant(1)), open, 'an open gate of an idle tenant was forgotten');
  });

  it('forgets idle pacers of tenants not paced for a long while, never one with requests in flight', async () => {
    const pacers = new PacerRegistry();
    const busy = pacers.get(app, tenant(0));
    const ticket = await busy.acquire(1);
    const idle = pacers.get(app, tenant(1));
    for (let i = 2; i < perTenantCacheLimits.pacers + 50; i++) pacers.get(app, tenant(i));
    assert.equal(pacers.get(app, tenant(0)), busy, 'a pacer with a request in flight survives');
    assert.notEqual(pacers.get(app, tenant(1)), idle);
    busy.release(ticket);
  });
});
