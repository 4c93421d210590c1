/** The API process. Stateless: run as many replicas as needed behind a load balancer. */
import type { Server } from 'node:http';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { createApp } from './app';
import { apiDependencies } from './dependencies';
import { createLogger } from '../observability/logger';
import { startTracing } from '../observability/tracing-sdk';

const log = createLogger({ service: 'api' });

async function run(): Promise<void> {
  const stopTracing = startTracing('entra-backup-api');
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const app = createApp(apiDependencies(config, client, { log }));
  const server: Server = app.listen(config.api.port, config.api.host, () => {
    log.info(`API listening on http://${config.api.host}:${config.api.port}`);
    if (config.temporal.payloadEncryption.development) {
      log.warn('payloads are encrypted with the published development key (set PAYLOAD_ENCRYPTION_KEY)');
    }
  });
  const shutdown = () => {
    server.close(
      () =>
        void client.connection
          .close()
          .then(() => stopTracing?.())
          .then(() => process.exit(0)),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

run().catch((err) => {
  log.error({ err }, 'API failed');
  process.exit(1);
});
