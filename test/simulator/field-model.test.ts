import assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import { FIELD_LATENCY, Simulator, scaledLatency } from '../../simulator';
import { startTenant } from './helpers';

interface Page {
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: { id: string }[];
}

/** Page sizes of a listing or delta round, following next links to the end. */
async function pageSizes(client: Client, url: string): Promise<{ sizes: number[]; ids: Set<string> }> {
  const sizes: number[] = [];
  const ids = new Set<string>();
  for (let next: string | undefined = url; next;) {
    const page = (await client.api(next).get()) as Page;
    sizes.push(page.value.length);
    for (const item of page.value) ids.add(item.id);
    next = page['@odata.nextLink'];
  }
  return { sizes, ids };
}

describe('simulator: the field latency and paging model', function () {
  let sim: Simulator;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, tenantId, client } = await startTenant({ users: 700, app: 'backup' })));
  afterEach(() => sim.control.setLatency({ baseMs: 0, jitterMs: 0 }));
  after(() => sim.close());

  const lastGraphEntries = (n: number) =>
    sim.control
      .requestLog({ tenantId, kind: 'graph' })
      .filter((e) => e.method === 'GET' || e.batchRequestId !== undefined)
      .slice(-n);

  it('models a response as base + per-object cost × objects returned (+ jitter), recorded per request', async () => {
    // Zero base and jitter keep the test fast: the per-object part alone is what is checked.
    sim.control.setLatency({ baseMs: 0, jitterMs: 0, perObjectMs: 0.05 });
    await client.api('/users').top(500).select('id').get();
    await client.api('/users').top(3).select('id').get();
    const [big, small] = lastGraphEntries(2);
    assert.equal(big.modelMs, 25);
    assert.equal(small.modelMs, 0);
  });

  it('answers a $batch when its slowest inner request would', async () => {
    sim.control.setLatency({ baseMs: 0, jitterMs: 0, perObjectMs: 0.1 });
    const answer = (await client.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: '/users?$top=400&$select=id' },
        { id: '2', method: 'GET', url: '/users?$top=10&$select=id' },
      ],
    })) as { responses: { id: string; status: number }[] };
    assert.deepEqual(
      answer.responses.map((r) => r.status),
      [200, 200],
    );
    const inner = lastGraphEntries(2).map((e) => e.modelMs);
    assert.deepEqual(inner, [40, 1]);
  });

  it('caps /users pages whatever $top asks, and the pages still hold every user once', async () => {
    sim.control.setLatency({ baseMs: 0, jitterMs: 0, pageCaps: { users: 120 } });
    const { sizes, ids } = await pageSizes(client, '/users?$top=999&$select=id');
    assert.equal(ids.size, 700);
    assert.deepEqual(sizes, [120, 120, 120, 120, 120, 100]);
    // Other sets keep $top.
    const devices = await pageSizes(client, '/devices?$top=999&$select=id');
    assert.deepEqual(devices.sizes, [175]);
  });

  it('pages delta by the configured size, and shrinks groups pages the same way for the same seed', async () => {
    sim.control.setLatency({ baseMs: 0, jitterMs: 0, deltaPageSize: 1 });
    const users = await pageSizes(client, '/users/delta?$select=id');
    assert.equal(users.ids.size, 700);
    assert.ok(users.sizes.every((n) => n === 1));

    // Pages of at most 10 (the field model's 200 would hold this tenant's 40 groups in one page, whatever it drew).
    sim.control.setLatency({ ...FIELD_LATENCY, baseMs: 0, jitterMs: 0, perObjectMs: 0, deltaPageSize: 10 });
    const groups = await pageSizes(client, '/groups/delta?$select=id');
    const again = await pageSizes(client, '/groups/delta?$select=id');
    assert.deepEqual(again.sizes, groups.sizes, 'the same round is paged the same way');
    assert.equal(groups.ids.size, sim.control.listObjects(tenantId, 'group').length);
    assert.ok(groups.sizes.every((n) => n >= 1 && n <= 10));
    assert.ok(
      groups.sizes.slice(0, -1).some((n) => n < 10),
      `groups' delta pages are smaller than 10: ${groups.sizes.join(',')}`,
    );
  });

  it('scales a model for the benchmark', () => {
    const doubled = scaledLatency(FIELD_LATENCY, 2);
    assert.deepEqual([doubled.baseMs, doubled.jitterMs, doubled.perObjectMs], [300, 100, 2]);
    assert.equal(doubled.deltaPageSize, FIELD_LATENCY.deltaPageSize);
  });
});
