/**
 * The worker process. Scale out by running more of them: they share nothing but Temporal and storage.
 * SIGTERM/SIGINT start a graceful shutdown (the SDK's Runtime handles the signals): no new tasks are polled and
 * running activities get the configured grace time.
 */
import { loadConfig } from '../temporal.config';
import { connectClient, connectWorker } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { createWorker } from './create-worker';

async function run(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config.temporal);
  const temporal = await connectClient(config.temporal);
  try {
    const worker = await createWorker(connection, config, {
      config,
      storage: createStorageClient(config.storage),
      temporal,
    });
    console.log(`worker polling task queue '${config.temporal.taskQueue}' on ${config.temporal.address}`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await temporal.connection.close();
    await connection.close();
  }
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
