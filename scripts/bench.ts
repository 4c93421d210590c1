/**
 * `npm run bench -- --tenants N [--users 500]`: many small tenants through one worker (scripts/many-tenants.ts).
 * `npm run bench -- --users N [--days 30] [--churn 0.01] [--latency-ms 80] [--jitter-ms 40] [--full-read-every 60]
 *   [--latency-model flat|field] [--latency-scale 1] [--page-cap N]
 *   [--worker-heap-mb 256] [--worker-semi-space-mb 8] [--worker-malloc-arenas 2] [--worker-cpu-prof DIR]`
 *
 * `--latency-model field` replaces the flat `--latency-ms`/`--jitter-ms` model with the simulator's field model
 * (150 ms + 1 ms per object returned + up to 50 ms, delta pages ≤ 200, groups' smaller; simulator/README.md);
 * `--latency-scale 2` makes either model twice as slow; `--page-cap 120` caps /users pages at 120 whatever `$top`.
 *
 * Backs up a simulated tenant of N users through the real stack — Temporal dev server, a worker in its own process,
 * the GCS emulator, the Entra simulator with Microsoft's published throttle budget and a latency model — then an
 * incremental backup after 1 % churn, then daily snapshots up to `--days`. Prints a table, then one line of JSON.
 * Figures, not assertions: the targets are in the README.
 */
import { parseArgs } from 'node:util';
import { FIELD_LATENCY, scaledLatency, type LatencyModel } from '../simulator';
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
      'latency-model': { type: 'string', default: 'flat' },
      'latency-scale': { type: 'string', default: '1' },
      'page-cap': { type: 'string' },
      'full-read-every': { type: 'string', default: '60' },
      /** V8 old-space limit of the worker (MB); V8's default on a large machine lets garbage pile up for GBs. */
      'worker-heap-mb': { type: 'string', default: '256' },
      /**
       * V8's semi-space (MB) of the worker (--max-semi-space-size; 0 leaves V8's 16). Its young generation is three of
       * them, and an export's garbage keeps it at its largest: 8 took 35 MB off a 20,000-user export's peak (289 ->
       * 253 MB) and 15 MB off the idle worker, for ~11 % more of the worker's CPU (more, smaller scavenges); 4 took
       * another 24 MB for ~17 % (README, "Export benchmark").
       */
      'worker-semi-space-mb': { type: 'string', default: '8' },
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
  const latency = latencyModel(values);
  const fullReadEvery = String(values['full-read-every']);
  const stackOptions = {
    users,
    latency,
    fullReadEvery,
    workerHeapMb: String(values['worker-heap-mb']),
    workerSemiSpaceMb: String(values['worker-semi-space-mb']),
    workerMallocArenas: String(values['worker-malloc-arenas']),
    workerCpuProfileDir: values['worker-cpu-prof'],
  };
  await withBenchStack(stackOptions, async (stack) => {
    const measurements = await measure(stack, { days, churn });
    printReport(measurements, { users, days, churn, latency, fullReadEvery, tenant: stack.tenant });
  });
}

/** The latency and paging model the simulator runs, from the command line. */
function latencyModel(values: Record<string, string | boolean | undefined>): LatencyModel {
  const model = String(values['latency-model']);
  if (model !== 'flat' && model !== 'field') throw new Error(`--latency-model must be flat or field, not ${model}`);
  let latency: LatencyModel =
    model === 'field'
      ? FIELD_LATENCY
      : { name: 'flat', baseMs: Number(values['latency-ms']), jitterMs: Number(values['jitter-ms']) };
  const scale = Number(values['latency-scale']);
  if (!(scale > 0)) throw new Error('--latency-scale must be a positive number');
  if (scale !== 1) latency = scaledLatency(latency, scale);
  if (values['page-cap'] !== undefined) {
    const cap = Number(values['page-cap']);
    if (!Number.isInteger(cap) || cap < 1) throw new Error('--page-cap must be a positive integer');
    latency = { ...latency, pageCaps: { users: cap } };
  }
  return latency;
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
