import { NativeConnection, type Worker } from '@temporalio/worker';
import type { AppConfig } from '../../temporal.config';
import { createWorker } from '../../worker/create-worker';
import { createStorageClient } from '../../storage/gcs-client';
import { connectClient } from '../../temporal/connection';

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
      // Work still in flight (a retention run another test's backup started) while the worker finalizes its shutdown
      // sometimes makes core refuse: "Worker still in use: Expected 1 reference, but got 2". Let it end first.
      for (let waited = 0; waited < 30_000 && worker.getState() === 'RUNNING'; waited += 100) {
        const status = worker.getStatus();
        if (status.numInFlightActivities === 0 && status.numInFlightWorkflowActivations === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await temporal.connection.close();
      await connection.close();
    },
  };
}
