import { Runtime } from '@temporalio/worker';
import { stopSharedTestStack } from './stack';
import { FailureRecordingLogger } from './worker-failures';

// Workers log every state change at INFO; tests want warnings and errors only, and a worker's failure remembered
// (worker-failures.ts). Must run before any worker exists.
Runtime.install({ logger: new FailureRecordingLogger() });

// Registered through .mocharc.json: runs once after every test file has finished.
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedTestStack();
  },
};
