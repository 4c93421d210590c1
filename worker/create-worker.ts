import { NativeConnection, Worker } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import type { AppConfig } from '../temporal.config';
import { createActivities, type ActivityDependencies } from '../activities';
import { createDataConverter } from '../temporal/data-converter';
import { GlobalSpanProcessor } from '../observability/tracing';

/** The OpenTelemetry interceptors of workflow code, bundled with it (also by scripts/build-workflows.ts). */
export const workflowInterceptorModules = [require.resolve('./workflow-interceptors')];

/**
 * Where workflow spans leave the sandbox: to the process's tracer provider (GlobalSpanProcessor), if any. Replay
 * workers need it too, as the workflow code calls it (it is not called during replay).
 */
export function workflowSinks() {
  return {
    exporter: makeWorkflowExporter(
      new GlobalSpanProcessor(),
      new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'entra-backup-worker' }),
    ),
  };
}

/** One worker: the product's workflows and activities on the configured task queue. Used by main.ts and tests. */
export async function createWorker(
  connection: NativeConnection,
  config: AppConfig,
  deps: ActivityDependencies,
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // A prebuilt bundle saves each worker the bundling at start-up, and the memory webpack takes for it.
    ...(config.worker.workflowBundlePath
      ? { workflowBundle: { codePath: config.worker.workflowBundlePath } }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(deps),
    dataConverter: createDataConverter(config.temporal.payloadEncryption),
    // Tracing (README "Observability"): the workflow's and each activity's span continue the trace of the call that
    // started them; with no tracer provider registered (tracing off) the spans are no-ops and nothing is exported.
    interceptors: {
      workflowModules: workflowInterceptorModules,
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: workflowSinks(),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // In-flight activities get this long to finish (or heartbeat their checkpoint) after SIGTERM.
    shutdownGraceTime: config.worker.shutdownGraceTime,
    // An activity stuck in a call that never returns would otherwise keep a stopping worker alive for ever
    // (sdk-typescript#2266): run() then rejects and the process exits, and Temporal retries the activity elsewhere.
    shutdownForceTime: config.worker.shutdownForceTime,
  });
}
