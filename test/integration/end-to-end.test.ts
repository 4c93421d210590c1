import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { createStorageClient } from '../../storage/gcs-client';
import { freePort } from '../../devstack/ports';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { listen, waitFor } from '../helpers/http';
import { bearer, newReseller, startApi } from '../helpers/accounts';
import { createApp } from '../../api/app';

const temporalCli = path.resolve(__dirname, '../../.local/bin/temporal');

describe('end to end: API → Temporal → worker → storage', () => {
  let stack: TestStack;
  let client: Client;
  let worker: RunningWorker;
  let api: Awaited<ReturnType<typeof startApi>>;
  let auth: Record<string, string>;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    api = await startApi(stack, client);
    auth = bearer((await newReseller(api.accounts, 'End-to-end MSP')).apiKey);
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
  });

  it('reports Temporal and storage healthy', async () => {
    const res = await fetch(`${api.baseUrl}/healthz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { checks: unknown };
    assert.deepEqual(body.checks, { temporal: { ok: true }, storage: { ok: true } });
  });

  it('starts a workflow over HTTP whose activity writes an object the test reads back from the storage server', async () => {
    const started = await fetch(`${api.baseUrl}/diagnostics/storage-probes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{}',
    });
    assert.equal(started.status, 202);
    const { workflowId } = (await started.json()) as { workflowId: string };
    assert.equal(started.headers.get('location'), `/diagnostics/storage-probes/${workflowId}`);

    const done = await waitFor('the probe to complete', async () => {
      const res = await fetch(`${api.baseUrl}/diagnostics/storage-probes/${workflowId}`, { headers: auth });
      const body = (await res.json()) as { status: string; result?: { key: string; bucket: string } };
      return body.status === 'completed' ? body : undefined;
    });

    // Read the object straight from the GCS-compatible server, not through the product's code.
    const [content] = await createStorageClient(stack.config.storage)
      .bucket(done.result!.bucket)
      .file(done.result!.key)
      .download();
    assert.equal(JSON.parse(content.toString()).workflowId, workflowId);

    const description = await client.workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, 'COMPLETED');

    // The stack's own CLI sees it, and the Web UI answers on its port.
    const { stdout } = await promisify(execFile)(temporalCli, [
      'workflow',
      'list',
      '--address',
      stack.config.temporal.address,
      '--query',
      `WorkflowId = '${workflowId}'`,
      '--output',
      'json',
    ]);
    const listed = JSON.parse(stdout) as { execution: { workflowId: string }; status: string }[];
    assert.equal(listed.length, 1);
    assert.equal(listed[0].execution.workflowId, workflowId);
    assert.match(listed[0].status, /COMPLETED/);
    const ui = await fetch(stack.config.temporal.webUiUrl);
    assert.equal(ui.status, 200);
  });

  it('refuses bad input with a problem+json naming the field, and starts nothing', async () => {
    const before = await countProbes(client);
    const res = await fetch(`${api.baseUrl}/diagnostics/storage-probes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ holdSeconds: 'soon' }),
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(problem.errors[0].field, 'body.holdSeconds');
    assert.equal(await countProbes(client), before);
  });

  it('answers 404 problem+json for an unknown probe', async () => {
    const res = await fetch(
      `${api.baseUrl}/diagnostics/storage-probes/storage-probe-00000000-0000-0000-0000-000000000000`,
      { headers: auth },
    );
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it('answers 503 naming storage when the storage server is unreachable', async () => {
    const deadStorage = createStorageClient({
      ...stack.config.storage,
      apiEndpoint: `http://127.0.0.1:${await freePort()}`,
    });
    const broken = await listen(createApp({ ...api.deps, storage: deadStorage }));
    try {
      const res = await fetch(`${broken.baseUrl}/healthz`);
      assert.equal(res.status, 503);
      const problem = (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.deepEqual(problem.failing, ['storage']);
      assert.equal(problem.checks.temporal.ok, true);
      assert.match(problem.detail, /storage is not reachable/);
    } finally {
      await broken.close();
    }
  });
});

async function countProbes(client: Client): Promise<number> {
  const { count } = await client.workflow.count(`WorkflowType = 'storageProbeWorkflow'`);
  return count;
}
