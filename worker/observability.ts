import http from 'node:http';
import net from 'node:net';
import { Runtime, type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { registry } from '../observability/metrics';
import { tenantIdOfWorkflow, type Logger } from '../observability/logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger on top of ours: workflow logs (through the SDK's sink), activity logs and Core's native
 * logs (forwarded) come out as the same JSON records as the process's own, with the job (workflow id), workflow type
 * and the tenant id of the workflow id.
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    // "Creating worker" carries the worker's whole options (data converter, connection): not for logs.
    const { options: _options, ...rest } = meta;
    const tenantId = tenantIdOfWorkflow(meta.workflowId);
    log[LEVELS[level]]({ ...rest, ...(tenantId ? { tenantId } : {}) }, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/** A free loopback port for Core's Prometheus exporter, which only the worker's /metrics reads. */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Installs the process's Temporal Runtime (once per process, before any connection): our logger, Core's logs
 * forwarded to it, and Core's Prometheus exporter on a loopback port. Returns that exporter's address.
 */
export async function installRuntime(log: Logger): Promise<string> {
  const coreMetrics = `127.0.0.1:${await freeLoopbackPort()}`;
  Runtime.install({
    logger: temporalLogger(log),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      metrics: { prometheus: { bindAddress: coreMetrics, countersTotalSuffix: true, useSecondsForDurations: true } },
    },
  });
  return coreMetrics;
}

/**
 * The worker's /metrics: prom-client's registry (our series) followed by the text of Core's exporter (the SDK's
 * worker, poller and workflow-meter series, `temporal_*` and our workflow counters), so Prometheus scrapes one port.
 * The two never share a metric name (ours are `entra_backup_*`), so the concatenation is a valid exposition.
 */
export function serveWorkerMetrics(
  port: number,
  host: string,
  coreMetrics: string | undefined,
  log: Logger,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      try {
        let text = await registry.metrics();
        if (coreMetrics) {
          const core = await fetch(`http://${coreMetrics}/metrics`, { signal: AbortSignal.timeout(5000) })
            .then((r) => (r.ok ? r.text() : ''))
            .catch(() => '');
          text = `${text.trimEnd()}\n${core}`;
        }
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      } catch (err) {
        log.error({ err }, 'metrics scrape failed');
        res.writeHead(500).end();
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
