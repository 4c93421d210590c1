import { metrics } from '../../observability/metrics';
import type { GraphMeter } from './graph-stats';
import type { Pacer } from './pacer';

/**
 * The Prometheus side of one Graph client's counters, labelled with the tenant-size class its pacer estimates:
 * per-tenant series would be one per customer tenant (thousands), while three classes still show whether small or
 * large tenants are the ones throttled.
 */
export function graphMeter(pacer: Pacer): GraphMeter {
  const label = () => ({ size_class: pacer.sizeClass() });
  const add = (counter: { inc(labels: { size_class: string }, n: number): void }, n: number) => {
    if (n > 0) counter.inc(label(), n);
  };
  return {
    requests: (n) => add(metrics.graphRequests, n),
    resourceUnits: (n) => add(metrics.graphResourceUnits, n),
    throttled: (n) => add(metrics.graphThrottled, n),
    throttleWaitMs: (ms) => add(metrics.graphThrottledWait, ms / 1000),
    pacingWaitMs: (ms) => add(metrics.graphPacingWait, ms / 1000),
  };
}
