import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { defineSearchAttributeKey } from '@temporalio/common';
import { searchAttributeNames } from '../../workflow-constants';

/**
 * An ephemeral Temporal dev server (the project's own pinned CLI, our search attributes registered) for workflow
 * tests with mocked activities. No time-skipping server is available offline: tests use short timeouts instead.
 */
export async function startWorkflowEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.resolve(__dirname, '../../.local/bin/temporal') },
      // Every one the product defines, each a Keyword as the stack registers them (devstack/temporal-server.ts).
      searchAttributes: Object.values(searchAttributeNames).map((name) => defineSearchAttributeKey(name, 'KEYWORD')),
    },
  });
}

/** A worker on its own task queue running the product's workflows with the given activities. */
export async function workflowWorker(env: TestWorkflowEnvironment, activities: Partial<Activities>) {
  const taskQueue = `wf-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities,
  });
  return { worker, taskQueue };
}

/** What a block of workflow tests starts its workflows with: the test server's client and the worker's task queue. */
export interface WorkflowTestWorker {
  client: TestWorkflowEnvironment['client'];
  taskQueue: string;
}

/**
 * Mocha hooks for a describe block of workflow tests: before all, the ephemeral server and a worker running the
 * product's workflows with these activities; after all, the worker shut down (its run awaited, so a workflow task
 * that failed it fails the block) and the server torn down. The object returned is filled in by the before hook:
 * read it inside tests, not while the block is being defined.
 */
export function workflowTestWorker(activities: Partial<Activities>): WorkflowTestWorker {
  const shared = {} as WorkflowTestWorker;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  before(async function () {
    this.timeout(120_000);
    env = await startWorkflowEnv();
    shared.client = env.client;
    ({ worker, taskQueue: shared.taskQueue } = await workflowWorker(env, activities));
    running = worker.run();
  });
  after(async function () {
    this.timeout(60_000);
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  return shared;
}

/** Polls `probe` until it returns a value, failing after `timeoutMs` with what was last seen. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
