import { metricMeter, workflowInfo } from '@temporalio/workflow';

/**
 * Job outcomes and durations, recorded by the workflows through the SDK's workflow metric meter: only a workflow knows
 * how its job ended, and the meter emits nothing during replay, so a job is counted once. Core's Prometheus exporter
 * publishes them with the SDK's own tags (namespace, task_queue, workflow_type); the worker's /metrics serves them.
 * The outcome is a status string union: a handful of series.
 */
export function countBackup(outcome: string): void {
  metricMeter.createCounter('entra_backup_backups', '1', 'Backups by outcome').add(1, { outcome });
}

/** Seconds from the workflow's start (the request) to now, for an export or a restore that ends here. */
export function recordJobDuration(job: 'export' | 'restore', outcome: string): void {
  const seconds = (Date.now() - workflowInfo().startTime.getTime()) / 1000;
  metricMeter
    .createHistogram(`entra_backup_${job}_duration`, 'float', 's', `Time from request to end of a ${job}, by outcome`)
    .record(seconds, { outcome });
}
