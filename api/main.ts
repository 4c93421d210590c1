/** The API process. Stateless: run as many replicas as needed behind a load balancer. */
import type { Server } from 'node:http';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { createApp } from './app';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';
import { StorageAuditLog } from './audit/storage-audit-log';

async function run(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const storage = createStorageClient(config.storage);
  const app = createApp({
    config,
    client,
    storage,
    accounts: new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue }),
    audit: new StorageAuditLog(storage, config.storage.defaultBucket),
  });
  const server: Server = app.listen(config.api.port, config.api.host, () => {
    console.log(`API listening on http://${config.api.host}:${config.api.port}`);
    if (config.temporal.payloadEncryption.development) {
      console.log('payloads are encrypted with the published development key (set PAYLOAD_ENCRYPTION_KEY)');
    }
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
