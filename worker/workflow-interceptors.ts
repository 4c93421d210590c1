/**
 * Workflow interceptors (bundled with the workflow code): OpenTelemetry's, for workflows started with them, and with
 * update and query handlers wrapped our own way. Three things in the SDK's interceptors break replay:
 *
 * - They change when workflow code resumes: an activity's result, a handler's end reach the workflow some microtasks
 *   later, through their nested async functions, so commands of concurrent coroutines come in another order. A
 *   tenant workflow recorded without them fails to replay with them ("Timer machine does not handle
 *   WorkflowExecutionUpdateAccepted"; replay.test.ts, the fixtures recorded before tracing). So a workflow uses them
 *   only when its run started with them: `patched(TRACING_PATCH)` is asked once, as the run starts, and remembered.
 * - Span ids come from the sandbox's seeded Math.random, which uuid4() also draws from (the consent nonce). A span
 *   made where replay does not go (an update's validator, which does not run on replay; a query, which is not in
 *   the history) draws numbers the replay does not, and every later random value differs. Validators and queries
 *   are not traced.
 * - The SDK's update span awaits the handler through its async functions (see the first point). Ours starts the
 *   handler synchronously inside the caller's context and returns the handler's own promise; the span ends beside.
 */
import { SpanStatusCode, context as otelContext, isSpanContextValid, trace } from '@opentelemetry/api';
import { patched, type WorkflowInterceptors } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  UPDATE_ID_ATTR_KEY,
  extractContextFromHeaders,
} from '@temporalio/interceptors-opentelemetry/lib/instrumentation';

/** The `patched()` id of runs started with the tracing interceptors (see above). */
export const TRACING_PATCH = 'otel-tracing-interceptors';

/** Whether this run is traced: decided once, as the run starts (one per workflow run: the factory makes it). */
interface Traced {
  on: boolean;
}

type Inbound = OpenTelemetryInboundInterceptor;
type Outbound = OpenTelemetryOutboundInterceptor;

class TracedInbound extends OpenTelemetryInboundInterceptor {
  constructor(private readonly traced: Traced) {
    super();
  }

  override execute(...[input, next]: Parameters<Inbound['execute']>): ReturnType<Inbound['execute']> {
    this.traced.on = patched(TRACING_PATCH);
    return this.traced.on ? super.execute(input, next) : next(input);
  }

  override handleSignal(...[input, next]: Parameters<Inbound['handleSignal']>): ReturnType<Inbound['handleSignal']> {
    return this.traced.on ? super.handleSignal(input, next) : next(input);
  }

  override handleUpdate(...[input, next]: Parameters<Inbound['handleUpdate']>): ReturnType<Inbound['handleUpdate']> {
    const caller = this.traced.on ? extractContextFromHeaders(input.headers) : undefined;
    // An update from a client without tracing carries an empty context: nothing to continue.
    const parent = caller && trace.getSpanContext(caller);
    if (!caller || !parent || !isSpanContextValid(parent)) return next(input);
    return otelContext.with(caller, () =>
      this.tracer.startActiveSpan(
        `HandleUpdate:${input.name}`,
        { attributes: { [UPDATE_ID_ATTR_KEY]: input.updateId } },
        (span) => {
          const result = next(input);
          result.then(
            () => span.end(),
            (err: unknown) => {
              span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
              span.end();
            },
          );
          return result;
        },
      ),
    );
  }

  override validateUpdate(...[input, next]: Parameters<Inbound['validateUpdate']>): void {
    next(input);
  }

  override handleQuery(...[input, next]: Parameters<Inbound['handleQuery']>): ReturnType<Inbound['handleQuery']> {
    return next(input);
  }
}

class TracedOutbound extends OpenTelemetryOutboundInterceptor {
  constructor(private readonly traced: Traced) {
    super();
  }

  override scheduleActivity(...[input, next]: Parameters<Outbound['scheduleActivity']>) {
    return this.traced.on ? super.scheduleActivity(input, next) : next(input);
  }

  override scheduleLocalActivity(...[input, next]: Parameters<Outbound['scheduleLocalActivity']>) {
    return this.traced.on ? super.scheduleLocalActivity(input, next) : next(input);
  }

  override startNexusOperation(...[input, next]: Parameters<Outbound['startNexusOperation']>) {
    return this.traced.on ? super.startNexusOperation(input, next) : next(input);
  }

  override startChildWorkflowExecution(...[input, next]: Parameters<Outbound['startChildWorkflowExecution']>) {
    return this.traced.on ? super.startChildWorkflowExecution(input, next) : next(input);
  }

  override continueAsNew(...[input, next]: Parameters<Outbound['continueAsNew']>) {
    return this.traced.on ? super.continueAsNew(input, next) : next(input);
  }

  override signalWorkflow(...[input, next]: Parameters<Outbound['signalWorkflow']>) {
    return this.traced.on ? super.signalWorkflow(input, next) : next(input);
  }

  override getLogAttributes(...[input, next]: Parameters<Outbound['getLogAttributes']>) {
    return this.traced.on ? super.getLogAttributes(input, next) : next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => {
  const traced: Traced = { on: false };
  return {
    inbound: [new TracedInbound(traced)],
    outbound: [new TracedOutbound(traced)],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
