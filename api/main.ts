/** The API process. Stateless: run as many replicas as needed behind a load balancer. */
import type { Server } from 'node:http';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { createApp } from './app';

async function run(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const app = createApp({ config, client, storage: createStorageClient(config.storage) });
  const server: Server = app.listen(config.api.port, config.api.host, () => {
    console.log(`API listening on http://${config.api.host}:${config.api.port}`);
  });
  const shutdown = () => {
    server.close(() => void client.connection.close().then(() => process.exit(0)));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
