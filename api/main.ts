/** The API process. Stateless: run as many replicas as needed behind a load balancer. */
import type { Server } from 'node:http';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { createApp } from './app';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';
import { StorageAuditLog } from './audit/storage-audit-log';
import { createLogger } from '../observability/logger';
import { startTracing } from '../observability/tracing-sdk';

const log = createLogger({ service: 'api' });

async function run(): Promise<void> {
  const stopTracing = startTracing('entra-backup-api');
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const storage = createStorageClient(config.storage);
  const app = createApp({
    config,
    client,
    storage,
    accounts: new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue }),
    audit: new StorageAuditLog(storage, config.storage.defaultBucket),
    log,
  });
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
