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
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await temporal.connection.close();
      await connection.close();
    },
  };
}
