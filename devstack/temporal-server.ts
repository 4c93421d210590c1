import { Connection } from '@temporalio/client';
import { searchAttributeNames } from '../temporal.config';

export interface TemporalServerOptions {
  binary: string;
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Codec endpoint the Web UI uses to show decrypted payloads. */
  codecEndpoint?: string;
}

/** Arguments for `temporal server start-dev`: SQLite on disk so state survives a restart, our search attributes. */
export function temporalServerArgs(o: TemporalServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--db-filename',
    o.dbFile,
    '--log-level',
    'warn',
    // The product uses workflow updates (consent callback, Backup now).
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
  ];
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const name of Object.values(searchAttributeNames)) args.push('--search-attribute', `${name}=Keyword`);
  if (o.codecEndpoint) args.push('--ui-codec-endpoint', o.codecEndpoint);
  return args;
}

export async function isTemporalHealthy(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const health = await connection.healthService.check({});
    if (health.status !== 1 /* SERVING */) return false;
    // The frontend answers before the namespace is registered; workers need the namespace.
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

export async function isHttpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.body?.cancel();
  return res.ok;
}
