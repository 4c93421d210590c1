import assert from 'node:assert/strict';
import { BatchRequestContent, BatchResponseContent, Client } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphFetch, startTenant, token } from './helpers';

describe('simulator: $batch', function () {
  let sim: Simulator;
  let restore: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, restore, tenantId, client } = await startTenant({ users: 60, app: 'restore' })));
  after(() => sim.close());

  it('runs requests with per-request statuses and fails dependents of a failed request with 424', async () => {
    const url = (p: string) => `${sim.graphRootUrl}${p}`;
    const content = new BatchRequestContent([
      { id: '1', request: new Request(url('/users?$top=2')) },
      { id: '2', request: new Request(url('/users/00000000-0000-4000-8000-000000000000')), dependsOn: ['1'] },
      { id: '3', request: new Request(url('/organization')), dependsOn: ['2'] },
      { id: '4', request: new Request(url('/groups?$top=1')), dependsOn: ['3'] },
    ]);
    const res = (await client.api('/$batch').post(await content.getContent())) as {
      responses: { id: string; status: number; headers: Record<string, string>; body: unknown }[];
    };
    const parsed = new BatchResponseContent(res);
    assert.equal(parsed.getResponseById('1').status, 200);
    assert.equal(parsed.getResponseById('2').status, 404, 'ran because its dependency succeeded');
    assert.equal(parsed.getResponseById('3').status, 424);
    assert.equal(parsed.getResponseById('4').status, 424);
    const one = res.responses.find((r) => r.id === '1');
    assert.ok(Number(one?.headers['x-ms-resource-unit']) >= 1);
    assert.equal((one?.body as { value: unknown[] }).value.length, 2);
  });

  it('accepts relative urls and JSON bodies (POST inside a batch)', async () => {
    const t = await token(sim, tenantId, restore);
    const r = await graphFetch(sim, t, '/$batch', {
      method: 'POST',
      body: JSON.stringify({
        requests: [
          {
            id: 'a',
            method: 'POST',
            url: '/groups',
            headers: { 'Content-Type': 'application/json' },
            body: { displayName: 'Batch group', mailEnabled: false, mailNickname: 'bg', securityEnabled: true },
          },
          { id: 'b', method: 'GET', url: "groups?$filter=displayName eq 'Batch group'", dependsOn: ['a'] },
        ],
      }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { responses: { id: string; status: number; body: { value?: unknown[] } }[] };
    assert.equal(body.responses.find((x) => x.id === 'a')?.status, 201);
    assert.equal(body.responses.find((x) => x.id === 'b')?.body.value?.length, 1);
  });

  it('rejects more than 20 requests with 400 and duplicate ids with 400', async () => {
    const t = await token(sim, tenantId, restore);
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' }));
    const r = await graphFetch(sim, t, '/$batch', { method: 'POST', body: JSON.stringify({ requests }) });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BadRequest');
    assert.match(body.error.message, /exceed the limit/);
    const dup = await graphFetch(sim, t, '/$batch', {
      method: 'POST',
      body: JSON.stringify({ requests: [requests[0], requests[0]] }),
    });
    assert.equal(dup.status, 400);
    assert.throws(
      () =>
        new BatchRequestContent(
          Array.from({ length: 21 }, (_, i) => ({
            id: String(i),
            request: new Request(`${sim.graphRootUrl}/organization`),
          })),
        ),
    );
  });
});
