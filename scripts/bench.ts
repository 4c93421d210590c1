/**
 * `npm run bench -- --tenants N [--users 500]`: many small tenants through one worker (scripts/many-tenants.ts).
 * `npm run bench -- --users N [--days 30] [--churn 0.01] [--latency-ms 80] [--jitter-ms 40] [--full-read-every 60]
 *   [--worker-heap-mb 256] [--worker-malloc-arenas 2] [--worker-cpu-prof DIR]`
 *
 * Backs up a simulated tenant of N users through the real stack — Temporal dev server, a worker in its own process,
 * the GCS emulator, the Entra simulator with Microsoft's published throttle budget and a latency model — then an
 * incremental backup after 1 % churn, then daily snapshots up to `--days`. Prints a table, then one line of JSON.
 * Figures, not assertions: the targets are in the README.
 */
import { parseArgs } from 'node:util';
import { measure } from './bench/measure';
import { printReport } from './bench/report';
import { withBenchStack } from './bench/stack';
import { benchManyTenants } from './many-tenants';

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      days: { type: 'string', default: '30' },
      churn: { type: 'string', default: '0.01' },
      'latency-ms': { type: 'string', default: '80' },
      'jitter-ms': { type: 'string', default: '40' },
      'full-read-every': { type: 'string', default: '60' },
      /** V8 old-space limit of the worker (MB); V8's default on a large machine lets garbage pile up for GBs. */
      'worker-heap-mb': { type: 'string', default: '256' },
      /**
       * glibc malloc arenas of the worker (MALLOC_ARENA_MAX; 0 leaves glibc's default of 8 per core). Node's threads
       * (libuv's pool, the page digest thread, Temporal's core) each got an arena whose freed pages stayed resident:
       * 2 took ~55 MB off the worker's peak at no measurable cost.
       */
      'worker-malloc-arenas': { type: 'string', default: '2' },
      /** Writes a V8 CPU profile of the worker into this folder when it stops (open it in Chrome DevTools). */
      'worker-cpu-prof': { type: 'string' },
      tenants: { type: 'string' },
    },
  });
  if (values.tenants) {
    const latency = { baseMs: Number(values['latency-ms']), jitterMs: Number(values['jitter-ms']) };
    const users = process.argv.includes('--users') ? Number(values.users) : 500;
    return benchManyTenants({ tenants: Number(values.tenants), users, latency });
  }
  const users = Number(values.users);
  const days = Number(values.days);
  const churn = Number(values.churn);
  const latency = { baseMs: Number(values['latency-ms']), jitterMs: Number(values['jitter-ms']) };
  const fullReadEvery = String(values['full-read-every']);
  const stackOptions = {
    users,
    latency,
    fullReadEvery,
    workerHeapMb: String(values['worker-heap-mb']),
    workerMallocArenas: String(values['worker-malloc-arenas']),
    workerCpuProfileDir: values['worker-cpu-prof'],
  };
  await withBenchStack(stackOptions, async (stack) => {
    const measurements = await measure(stack, { days, churn });
    printReport(measurements, { users, days, churn, latency, fullReadEvery, tenant: stack.tenant });
  });
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
