import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus series of this process (README "Observability"). One registry per process: the API and the worker
 * import the same definitions and each fills the ones its code reaches. Labels are low-cardinality on purpose — an
 * outcome, an object type of the catalog, a tenant-size class, a route template — never a tenant, job or object id:
 * one MSP runs thousands of tenants, and a series per tenant would multiply every series by that.
 *
 * Job outcomes and durations (backups, exports, restores) are counted by the workflows themselves through the
 * Temporal SDK's workflow metric meter (workflows/job-metrics.ts), which the worker's /metrics serves beside these.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'entra_backup_process_' });

const registers = [registry];

/** Microsoft's size classes (S/M/L, by the app+tenant RU budget) as the pacer estimates them. */
export type SizeClassLabel = 'S' | 'M' | 'L';

export const metrics = {
  objectsCaptured: new Counter({
    name: 'entra_backup_objects_captured_total',
    help: 'Objects present in the captured types of backups (per type of the catalog)',
    labelNames: ['type'] as const,
    registers,
  }),
  typesCaptured: new Counter({
    name: 'entra_backup_type_captures_total',
    help: 'Object types captured by backups, by outcome (captured, skipped, failed)',
    labelNames: ['outcome'] as const,
    registers,
  }),
  graphRequests: new Counter({
    name: 'entra_backup_graph_requests_total',
    help: 'HTTP requests sent to Microsoft Graph (retries included; a $batch is one), by tenant-size class',
    labelNames: ['size_class'] as const,
    registers,
  }),
  graphResourceUnits: new Counter({
    name: 'entra_backup_graph_resource_units_total',
    help: 'Resource units Graph charged (x-ms-resource-unit, inner $batch answers included), by tenant-size class',
    labelNames: ['size_class'] as const,
    registers,
  }),
  graphThrottled: new Counter({
    name: 'entra_backup_graph_throttled_total',
    help: 'Graph 429 answers (inner $batch ones included), by tenant-size class',
    labelNames: ['size_class'] as const,
    registers,
  }),
  graphThrottledWait: new Counter({
    name: 'entra_backup_graph_throttled_wait_seconds_total',
    help: 'Time requests were held by a Retry-After gate, by tenant-size class',
    labelNames: ['size_class'] as const,
    registers,
  }),
  graphPacingWait: new Counter({
    name: 'entra_backup_graph_pacing_wait_seconds_total',
    help: "Time requests were queued by the pacer to stay within the tenant's resource-unit budget",
    labelNames: ['size_class'] as const,
    registers,
  }),
  storageBytesWritten: new Counter({
    name: 'entra_backup_storage_bytes_written_total',
    help: "Bytes written to tenants' repositories (packs, indexes, manifests, checkpoints, snapshot records)",
    registers,
  }),
  storageWrites: new Counter({
    name: 'entra_backup_storage_writes_total',
    help: 'Object-store writes, by result (written, exists: a create-only write found the key taken, error)',
    labelNames: ['result'] as const,
    registers,
  }),
  consentChecks: new Counter({
    name: 'entra_backup_consent_checks_total',
    help: 'Consent verifications by the worker, by app (backup, restore) and resulting consent state',
    labelNames: ['app', 'state'] as const,
    registers,
  }),
  apiRequests: new Counter({
    name: 'entra_backup_api_requests_total',
    help: 'API requests by method, route template (OpenAPI path, e.g. /tenants/{tenantId}) and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  apiRequestDuration: new Histogram({
    name: 'entra_backup_api_request_duration_seconds',
    help: 'API request duration by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  }),
  tenantsByStatus: new Gauge({
    name: 'entra_backup_tenants',
    help: 'Tenants by status (awaiting-consent, active, reauthorization-required, backups-failing), from Temporal visibility',
    labelNames: ['status'] as const,
    registers,
  }),
};
