/**
 * `npm run demo`: the local stack (Temporal dev server + Web UI, GCS emulator), a worker and the API, in the
 * foreground. Ctrl-C stops the worker and the API; the stack keeps running (and keeps its data) until
 * `npm run stack:stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../temporal.config';
import { startStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { assertPortsFree } from '../devstack/ports';
import { waitUntil } from '../devstack/processes';

const root = path.resolve(__dirname, '..');
const children: ChildProcess[] = [];

function startChild(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script)], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => `[${name}] ${l}`)
      .join('\n') + '\n';
  child.stdout?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the demo`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of children) child.kill('SIGTERM');
  console.log('\nworker and API stopped; the stack keeps running (npm run stack:stop ends it)');
  setTimeout(() => process.exit(code), 1500).unref();
}

async function run(): Promise<void> {
  const config = loadConfig();
  console.log('starting the local stack…');
  const stack = await startStack({ ...config.local, namespace: config.temporal.namespace });
  await ensureBucket(config.storage, config.storage.defaultBucket);
  await assertPortsFree({ API: config.api.port }, config.api.host);

  startChild('worker', 'worker/main.ts');
  startChild('api', 'api/main.ts');
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  await waitUntil('the API', async () => (await fetch(`${apiUrl}/healthz`)).ok, 60_000);

  console.log(`
entra-backup demo is running
  API:             ${apiUrl}   (GET /healthz)
  Temporal Web UI: ${stack.webUiUrl}
  Temporal:        ${stack.temporalAddress}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
  GCS emulator:    ${stack.storageEndpoint}, bucket ${config.storage.defaultBucket}

Try:
  curl -s -X POST ${apiUrl}/diagnostics/storage-probes -H 'content-type: application/json' -d '{"holdSeconds": 5}'
  then open the Temporal Web UI and watch the storage probe workflow complete.

Ctrl-C stops the worker and the API.`);
  process.once('SIGINT', () => shutdown(0));
  process.once('SIGTERM', () => shutdown(0));
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  shutdown(1);
});
