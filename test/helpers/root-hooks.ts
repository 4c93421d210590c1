import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopSharedTestStack } from './stack';

// Workers log every state change at INFO; tests want warnings and errors only. Must run before any worker exists.
Runtime.install({ logger: new DefaultLogger('WARN') });

// Registered through .mocharc.json: runs once after every test file has finished.
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedTestStack();
  },
};
