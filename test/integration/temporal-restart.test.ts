import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { storageProbeStatusQuery, storageProbeWorkflow } from '../../workflows';
import { startTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';

describe('a Temporal server killed mid-workflow', () => {
  let stack: TestStack;
  let worker: RunningWorker | undefined;
  let client: Client | undefined;

  before(async function () {
    if (process.env.TEST_TEMPORAL_ADDRESS) this.skip(); // an external stack is not ours to kill
    stack = await startTestStack(); // its own stack: this test kills the server
  });

  after(async () => {
    await worker?.stop();
    await client?.connection.close();
    await stack?.stop();
  });

  it('loses no workflow: after a restart on the same data folder the workflow completes', async () => {
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    const handle = await client.workflow.start(storageProbeWorkflow, {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `storage-probe-restart-${Date.now()}`,
      args: [{ bucket: stack.config.storage.defaultBucket, holdSeconds: 4 }],
    });
    await waitFor('the probe to hold', async () =>
      (await handle.query(storageProbeStatusQuery)) === 'holding' ? true : undefined,
    );

    stack.crashTemporal();
    await new Promise((r) => setTimeout(r, 1000));
    await stack.restart();

    const result = await handle.result();
    assert.equal(result.verified, true);
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
  });
});
