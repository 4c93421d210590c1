import { NativeConnection, type Worker } from '@temporalio/worker';
import type { AppConfig } from '../../temporal.config';
import { createWorker } from '../../worker/create-worker';
import { createStorageClient } from '../../storage/gcs-client';
import { connectClient } from '../../temporal/connection';
import { unmaskedRunError } from './worker-failures';

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** The product's real worker against a test stack, running until `stop()`. */
export async function startWorker(config: AppConfig): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const temporal = await connectClient(config.temporal);
  const worker = await createWorker(connection, config, {
    config,
    storage: createStorageClient(config.storage),
    temporal,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      // Work still in flight (a retention run another test's backup started) gets a while to end first: an activity
      // still running WORKER_SHUTDOWN_FORCE after shutdown() fails the worker (GracefulShutdownPeriodExpiredError),
      // which the SDK then hides behind "Worker still in use: Expected 1 reference, but got 2" (worker-failures.ts).
      for (let waited = 0; waited < 30_000 && worker.getState() === 'RUNNING'; waited += 100) {
        const status = worker.getStatus();
        if (status.numInFlightActivities === 0 && status.numInFlightWorkflowActivations === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (worker.getState() === 'RUNNING') worker.shutdown();
      try {
        await running.catch((err: unknown) => {
          throw unmaskedRunError(err, config.temporal.taskQueue);
        });
      } finally {
        await temporal.connection.close();
        await connection.close();
      }
    },
  };
}
