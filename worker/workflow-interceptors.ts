/**
 * Workflow interceptors (bundled with the workflow code): OpenTelemetry's, for workflow runs started with them, with
 * update handlers wrapped our own way and validators and queries left alone.
 *
 * Span ids come from the sandbox's seeded Math.random, which uuid4() draws from too (the tenant workflow's consent
 * nonce). A run recorded without the interceptors and replayed with them draws span ids its first run did not: its
 * nonce comes out different, the recorded consent callback no longer matches it, and the commands change ("Timer
 * machine does not handle WorkflowExecutionUpdateAccepted" for the fixtures recorded before tracing, replay.test.ts;
 * six Math.random() calls at the start do the same). So a run uses them only if it started with them:
 * `patched(TRACING_PATCH)` is asked once, as the run starts, and remembered. For the same reason no span is made
 * where replay does not go: an update's validator (not run on replay) and a query (not in the history) are not
 * traced. An update's handler is: ours runs it synchronously inside the caller's context and returns the handler's
 * own promise, the span ending beside it, so it completes as an unwrapped handler does (the SDK's awaits it through
 * nested async functions).
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
