/**
 * The worker process. Scale out by running more of them: they share nothing but Temporal and storage.
 * SIGTERM/SIGINT start a graceful shutdown (the SDK's Runtime handles the signals): no new tasks are polled and
 * running activities get the configured grace time.
 */
import { loadConfig } from '../temporal.config';
import { connectClient, connectWorker } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { createLogger } from '../observability/logger';
import { startTracing } from '../observability/tracing-sdk';
import { createWorker } from './create-worker';
import { installRuntime, serveWorkerMetrics } from './observability';

const log = createLogger({ service: 'worker' });

async function run(): Promise<void> {
  const stopTracing = startTracing('entra-backup-worker');
  const config = loadConfig();
  // Once per process, before the first connection: the SDK's logs and metrics go where ours do.
  const coreMetrics = await installRuntime(log);
  const metricsServer =
    config.worker.metrics.port > 0
      ? await serveWorkerMetrics(config.worker.metrics.port, config.worker.metrics.host, coreMetrics, log).catch(
          (err: Error) => {
            // Another worker on this machine holds the port: this one still works, unscraped.
            log.warn({ err: err.message, port: config.worker.metrics.port }, 'worker metrics not served');
            return undefined;
          },
        )
      : undefined;
  const connection = await connectWorker(config.temporal);
  const temporal = await connectClient(config.temporal);
  try {
    const worker = await createWorker(connection, config, {
      config,
      storage: createStorageClient(config.storage),
      temporal,
    });
    const metrics = metricsServer
      ? `http://${config.worker.metrics.host}:${config.worker.metrics.port}/metrics`
      : undefined;
    log.info(
      { taskQueue: config.temporal.taskQueue, address: config.temporal.address, metrics },
      `worker polling task queue '${config.temporal.taskQueue}'`,
    );
    await worker.run();
    log.info('worker stopped');
  } finally {
    metricsServer?.close();
    await temporal.connection.close();
    await connection.close();
    await stopTracing?.();
  }
}

run().catch((err) => {
  log.error({ err }, 'worker failed');
  process.exit(1);
});
