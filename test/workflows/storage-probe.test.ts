import assert from 'node:assert/strict';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { Activities } from '../../activities';
import { storageProbeWorkflow } from '../../workflows';

// Workflow logic against an ephemeral Temporal dev server (the project's own pinned CLI), activities mocked.
describe('storageProbeWorkflow', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: path.resolve(__dirname, '../../.local/bin/temporal') } },
    });
  });

  after(async () => {
    await env?.teardown();
  });

  async function run(activities: Partial<Activities>, id: string) {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: `probe-${id}`,
      workflowsPath: require.resolve('../../workflows'),
      activities,
    });
    return worker.runUntil(
      env.client.workflow.execute(storageProbeWorkflow, {
        taskQueue: `probe-${id}`,
        workflowId: id,
        args: [{ bucket: 'b' }],
        retry: { maximumAttempts: 1 },
      }),
    );
  }

  it('reports a read-back that does not match as not verified', async () => {
    const written: string[] = [];
    const result = await run(
      {
        writeProbeObject: async ({ key }) => {
          written.push(key);
          return { bytes: 7 };
        },
        verifyProbeObject: async () => false,
      },
      'probe-mismatch',
    );
    assert.deepEqual(result, { bucket: 'b', key: '_probes/probe-mismatch.json', bytes: 7, verified: false });
    assert.deepEqual(written, ['_probes/probe-mismatch.json']);
  });

  it('fails the workflow when storage refuses the write for good', async () => {
    const { ApplicationFailure } = await import('@temporalio/common');
    await assert.rejects(
      run(
        {
          writeProbeObject: async () => {
            throw ApplicationFailure.nonRetryable('bucket does not exist', 'BucketMissing');
          },
          verifyProbeObject: async () => true,
        },
        'probe-refused',
      ),
      (err: unknown) => err instanceof WorkflowFailedError,
    );
  });
});
