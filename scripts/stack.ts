/**
 * `npm run stack:start|stack:stop|stack:status`: the local Temporal and GCS emulator. `stack:start -- --profile cluster`
 * (or LOCAL_TEMPORAL_PROFILE=cluster) runs the Temporal server on PostgreSQL with its Web UI instead of the dev server.
 */
import { loadConfig } from '../temporal.config';
import { startStack, stackStatus, stopStack, type TemporalProfile } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { DEFAULT_POSTGRES_URL, parsePostgresUrl } from '../devstack/temporal-cluster';

function profileArg(args: string[]): TemporalProfile {
  const i = args.indexOf('--profile');
  const value = i >= 0 ? args[i + 1] : (process.env.LOCAL_TEMPORAL_PROFILE ?? 'dev');
  if (value !== 'dev' && value !== 'cluster') throw new Error(`--profile must be 'dev' or 'cluster', got '${value}'`);
  return value;
}

async function run(): Promise<void> {
  const config = loadConfig();
  const command = process.argv[2] ?? 'status';
  const { local } = config;
  if (command === 'start') {
    const profile = profileArg(process.argv.slice(3));
    const database = process.env.TEMPORAL_POSTGRES_DATABASE ?? 'entra_backup_temporal';
    const stack = await startStack({
      ...local,
      namespace: config.temporal.namespace,
      codecEndpoint: process.env.TEMPORAL_UI_CODEC_ENDPOINT,
      profile,
      postgres: parsePostgresUrl(process.env.TEMPORAL_POSTGRES_URL ?? DEFAULT_POSTGRES_URL),
      databases: { main: database, visibility: `${database}_visibility` },
    });
    await ensureBucket(config.storage, config.storage.defaultBucket);
    console.log(stack.started ? 'local stack started' : 'local stack already running');
    const t = stack.record.temporal;
    const kind =
      t.profile === 'cluster'
        ? `Temporal server on PostgreSQL, databases ${database} and ${database}_visibility`
        : 'dev server';
    console.log(`  Temporal:     ${stack.temporalAddress} (namespace ${t.namespace}; ${kind})`);
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
