import { listObjectTypes } from '../../catalog';
import { RESOURCE_UNITS_PER_WINDOW, RESOURCE_UNIT_WINDOW_MS } from '../../microsoft/graph-throttle-limits';
import type { LatencyModel, TenantSummary } from '../../simulator';
import type { Measurements } from './measure';

export interface ReportContext {
  users: number;
  days: number;
  churn: number;
  latency: LatencyModel;
  fullReadEvery: string;
  tenant: TenantSummary;
}

/** The figures the README's targets are about, from what was measured. */
export function benchFigures(m: Measurements, ctx: ReportContext) {
  const { full, incremental, afterFull, afterDays } = m;
  const budgetPerSecond = RESOURCE_UNITS_PER_WINDOW[ctx.tenant.size] / (RESOURCE_UNIT_WINDOW_MS / 1000);
  const throttleBoundSeconds = full.resourceUnits / budgetPerSecond;
  const objects = Object.values(ctx.tenant.counts).reduce((n, c) => n + c, 0);
  return {
    users: ctx.users,
    objects,
    fullSeconds: round(full.seconds),
    requests: full.requests,
    resourceUnits: full.resourceUnits,
    throttleBoundSeconds: round(throttleBoundSeconds),
    ratioToBound: round(full.seconds / throttleBoundSeconds),
    latencyModel: describeLatency(ctx.latency),
    pageCap: ctx.latency.pageCaps?.users ?? null,
    partitions: Object.fromEntries(
      Object.entries(full.progress.types).flatMap(([type, t]) => (t.partitions ? [[type, t.partitions]] : [])),
    ),
    latencyBoundSeconds: round(full.latencyBoundSeconds),
    incrementalRuShare: round(incremental.resourceUnits / full.resourceUnits, 4),
    // Mean RU of the daily backups after the first (days 2..N, the periodic full reads among them included) over
    // the full backup's; `fullReadDays` says how many of them read some type in full.
    averageDailyRuShare: round(
      m.daily.reduce((n, d) => n + d.resourceUnits, 0) / m.daily.length / full.resourceUnits,
      4,
    ),
    fullReadDays: m.daily.filter((d) => d.fullReads > 0).length,
    // The same over one whole full-read cycle (one full read plus N-1 incremental backups at the measured mean of the
    // days that read nothing in full): what the window shows only when N divides it.
    cycleAverageRuShare: cycleAverage(m, Number(ctx.fullReadEvery)),
    storageMultipleAfterDays: round(afterDays.bytes / afterFull.bytes),
    storageFilesAfterFull: afterFull.objects,
    workerPeakRssMb: round(m.workerPeakRssMb),
    historyEvents: full.historyEvents,
    throttleWaitSeconds: round(full.progress.throttleWaitMs / 1000),
    graphSeconds: round(full.progress.graphMs / 1000),
    storageSeconds: round(full.progress.storageMs / 1000),
    diffSeconds: round(m.browse.diffSeconds),
    objectReadMs: round(m.browse.objectReadMs),
    // null, with the reason, when the export could not be measured: never a figure that reads as met.
    exportSeconds: 'error' in m.exported ? null : m.exported.exportSeconds,
    exportObjectsPerSecond: 'error' in m.exported ? null : m.exported.exportObjectsPerSecond,
    exportPeakRssMb: 'error' in m.exported ? null : m.exported.exportPeakRssMb,
    exportWorkerStartRssMb: 'error' in m.exported ? null : m.exported.exportWorkerStartRssMb,
    ...('error' in m.exported ? { exportError: m.exported.error } : {}),
  };
}

/** Prints the table, the slowest types, the RU timeline, then the figures as one line of JSON. */
export function printReport(m: Measurements, ctx: ReportContext): void {
  const { full } = m;
  const { tenant, latency, days, churn, users } = ctx;
  const figures = benchFigures(m, ctx);
  console.log(`
entra-backup benchmark — ${users.toLocaleString()} users (${figures.objects.toLocaleString()} directory objects, size ${tenant.size})
latency model: ${describeLatency(latency)}; budget ${RESOURCE_UNITS_PER_WINDOW[tenant.size]} RU / ${RESOURCE_UNIT_WINDOW_MS / 1000} s;
object types: ${listObjectTypes().length}; ${days} daily snapshots at ${(churn * 100).toFixed(1)} % churn; full read every ${ctx.fullReadEvery} backups

| figure                               | value |
| ------------------------------------ | ----- |
| full backup                          | ${figures.fullSeconds} s |
| requests / resource units            | ${figures.requests} / ${figures.resourceUnits} |
| throttle-bound minimum (RU ÷ budget) | ${figures.throttleBoundSeconds} s |
| ratio to the bound                   | ${figures.ratioToBound} (target ≤ 1.3) |
| latency bound (longest request chain) | ${figures.latencyBoundSeconds} s |
| partitioned listings                 | ${
    Object.entries(figures.partitions)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ') || 'none'
  } |
| incremental RU share (1 % churn)     | ${(figures.incrementalRuShare * 100).toFixed(2)} % (target ≤ 2 %) |
| average daily RU share, days 2-${days}     | ${(figures.averageDailyRuShare * 100).toFixed(2)} % with ${figures.fullReadDays} days reading a type in full (target ≤ 3 %) |
| average over a full-read cycle       | ${figures.cycleAverageRuShare === null ? 'not measured' : `${(figures.cycleAverageRuShare * 100).toFixed(2)} %`} (1 full + ${Number(ctx.fullReadEvery) - 1} incremental) |
| storage after ${days} snapshots          | ${figures.storageMultipleAfterDays} × one full (target ≤ 1.5) |
| storage files after the full backup  | ${figures.storageFilesAfterFull} |
| worker peak RSS                      | ${figures.workerPeakRssMb} MB (target ≤ 500) |
| history events of the full backup    | ${figures.historyEvents} |
| time: throttle wait / Graph / storage | ${figures.throttleWaitSeconds} s / ${figures.graphSeconds} s / ${figures.storageSeconds} s (summed over types) |
| diff of two snapshots ${(churn * 100).toFixed(1)} % apart   | ${figures.diffSeconds} s (target ≤ 10) |
| one object with history (median)     | ${figures.objectReadMs} ms (target ≤ 200) |
| whole-tenant export                  | ${'error' in m.exported ? `not measured: ${m.exported.error}` : `${figures.exportSeconds} s, ${figures.exportObjectsPerSecond} objects/s, worker peak ${figures.exportPeakRssMb} MB`} (target ≤ 300 MB) |
`);
  const slowest = Object.entries(full.progress.types)
    .sort((a, b) => b[1].seconds - a[1].seconds)
    .slice(0, 6)
    .map(
      ([type, t]) =>
        `  ${type.padEnd(24)} ${t.startedAfterSeconds.toFixed(1).padStart(5)}-${(t.startedAfterSeconds + t.seconds).toFixed(1).padStart(4)} s  ${String(t.resourceUnits).padStart(6)} RU  ` +
        `wait ${t.throttleWaitSeconds.toFixed(1)} s, Graph ${t.graphSeconds.toFixed(1)} s, storage ${t.storageSeconds.toFixed(1)} s`,
    )
    .join('\n');
  console.log(
    `slowest types of the full backup (from-to after its start; throttle wait, Graph and storage overlap):\n${slowest}`,
  );
  console.log(
    `resource units per 2 s of the full backup (budget ${(RESOURCE_UNITS_PER_WINDOW[tenant.size] * 2000) / RESOURCE_UNIT_WINDOW_MS}): ${full.ruTimeline.join(' ')}`,
  );
  console.log(`429 answers during the full backup: ${full.progress.throttled}\n`);
  console.log(JSON.stringify(figures));
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

function cycleAverage(m: Measurements, every: number): number | null {
  const incremental = m.daily.filter((d) => d.fullReads === 0);
  if (incremental.length === 0 || !(every >= 1)) return null;
  const mean = incremental.reduce((n, d) => n + d.resourceUnits, 0) / incremental.length;
  return round((m.full.resourceUnits + (every - 1) * mean) / every / m.full.resourceUnits, 4);
}

/** The model in words, e.g. `field: 150 ms + 1 ms/object + up to 50 ms, /users pages ≤ 120`. */
export function describeLatency(l: LatencyModel): string {
  const parts = [`${l.baseMs} ms`];
  if (l.perObjectMs) parts.push(`${l.perObjectMs} ms/object`);
  parts.push(`up to ${l.jitterMs} ms per request`);
  const paging = [
    ...Object.entries(l.pageCaps ?? {}).map(([set, cap]) => `/${set} pages ≤ ${cap}`),
    ...(l.deltaPageSize !== undefined ? [`delta pages ≤ ${l.deltaPageSize}`] : []),
    ...(l.shrinkingDeltaPages?.length ? [`smaller delta pages for ${l.shrinkingDeltaPages.join(', ')}`] : []),
  ];
  return `${l.name ?? 'flat'}: ${parts.join(' + ')}${paging.length ? `; ${paging.join(', ')}` : ''}`;
}
