import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Attribute names whose values are never written, wherever they appear in a log record: credentials, tokens and the
 * consent callback's parameters. Directory data (names, UPNs, mail) is never logged in the first place: log records
 * carry ids, counts and statuses only (README "Observability").
 */
const REDACTED = [
  'accessToken',
  'access_token',
  'refreshToken',
  'token',
  'secret',
  'clientSecret',
  'password',
  'apiKey',
  'authorization',
  'cookie',
  'code',
  'state',
  'headers',
].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  /** `api`, `worker`, …: the `service` attribute of every record. */
  service: string;
  /** Default LOG_LEVEL, else info. */
  level?: string;
  /** Default LOG_FORMAT: `json` (one JSON object a line on stdout) or `pretty` (human-readable, for the demo). */
  format?: string;
  /** Where records go; stdout by default (tests pass a stream). */
  destination?: DestinationStream;
}

/** The process's JSON logger (pino): one format for our records and, in the worker, the Temporal SDK's. */
export function createLogger(options: LoggerOptions, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = options.level ?? env.LOG_LEVEL ?? 'info';
  const format = options.format ?? env.LOG_FORMAT ?? 'json';
  const base = {
    level,
    base: { service: options.service, pid: process.pid },
    redact: { paths: REDACTED, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === 'pretty' && !options.destination) {
    // pino-pretty is a development dependency: only `npm run demo` asks for it.
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/**
 * The tenant id inside a workflow id (`tenant:{id}`, `backup:{id}:…`, `tenant-backup:{id}`, `export:{id}:…`,
 * `restore:{id}:…`; a schedule's run adds a timestamp): the SDK's log attributes name the workflow, and operators search logs by tenant.
 */
export function tenantIdOfWorkflow(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string') return undefined;
  const m = /^[a-z-]+:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9a-f])/i.exec(workflowId);
  return m?.[1];
}
