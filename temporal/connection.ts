import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { TemporalConnectionConfig } from '../temporal.config';
import { createDataConverter } from './data-converter';

function tlsOptions(c: TemporalConnectionConfig) {
  if (!c.tls && !c.apiKey) return undefined;
  const read = (p?: string) => (p ? fs.readFileSync(p) : undefined);
  const crt = read(c.tls?.certPath);
  const key = read(c.tls?.keyPath);
  return {
    serverNameOverride: c.tls?.serverName,
    serverRootCACertificate: read(c.tls?.caPath),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

/** A client for the API and scripts: local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
export async function connectClient(c: TemporalConnectionConfig): Promise<Client> {
  const connection = await Connection.connect({ address: c.address, tls: tlsOptions(c), apiKey: c.apiKey });
  return new Client({
    connection,
    namespace: c.namespace,
    dataConverter: createDataConverter(c.payloadEncryption),
    // Starts, signals and updates carry the caller's trace context to the workflow (a no-op while tracing is off).
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}

export function connectWorker(c: TemporalConnectionConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: c.address, tls: tlsOptions(c), apiKey: c.apiKey });
}
