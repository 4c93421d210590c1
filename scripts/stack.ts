/** `npm run stack:start|stack:stop|stack:status`: the local Temporal dev server and GCS emulator. */
import { loadConfig } from '../temporal.config';
import { startStack, stackStatus, stopStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';

async function run(): Promise<void> {
  const config = loadConfig();
  const command = process.argv[2] ?? 'status';
  const { local } = config;
  if (command === 'start') {
    const stack = await startStack({
      ...local,
      namespace: config.temporal.namespace,
      codecEndpoint: process.env.TEMPORAL_UI_CODEC_ENDPOINT,
    });
    await ensureBucket(config.storage, config.storage.defaultBucket);
    console.log(stack.started ? 'local stack started' : 'local stack already running');
    console.log(`  Temporal:     ${stack.temporalAddress} (namespace ${stack.record.temporal.namespace})`);
    console.log(`  Temporal UI:  ${stack.webUiUrl}`);
    console.log(`  GCS emulator: ${stack.storageEndpoint} (bucket ${config.storage.defaultBucket})`);
    console.log(`  data:         ${local.dataDir}`);
  } else if (command === 'stop') {
    const stopped = await stopStack(local.dataDir);
    console.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing recorded as running');
  } else if (command === 'status') {
    const s = stackStatus(local.dataDir);
    console.log(`temporal: ${s.temporal ? 'running' : 'stopped'}, gcs: ${s.gcs ? 'running' : 'stopped'}`);
  } else {
    throw new Error(`unknown command '${command}': use start, stop or status`);
  }
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
