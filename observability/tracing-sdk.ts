import { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * Tracing is off unless OTEL_TRACES_EXPORTER names an exporter (otlp, console, zipkin): the OpenTelemetry SDK would
 * otherwise default to OTLP and try to reach a collector on localhost. Everything else is the standard OTEL_*
 * variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, …), read by
 * the SDK itself. Returns the stop function (flushes spans), or undefined when tracing is off.
 */
export function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): (() => Promise<void>) | undefined {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').trim();
  if (exporters === '' || exporters === 'none' || env.OTEL_SDK_DISABLED === 'true') return undefined;
  env.OTEL_SERVICE_NAME ??= serviceName;
  // The SDK's own metrics and logs exporters stay off: metrics are Prometheus (prom-client), logs are pino on stdout.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  return () => sdk.shutdown();
}
