/**
 * Workflow interceptors (bundled with the workflow code): OpenTelemetry's, except around update handlers. Its update
 * interceptor adds an async step before the handler runs, which changed the order of the tenant workflow's commands
 * between a first run and a replay (a nondeterminism error, "Timer machine does not handle
 * WorkflowExecutionUpdateAccepted", when another worker replays a tenant after an update): updates run unwrapped.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';

class InboundWithoutUpdates extends OpenTelemetryInboundInterceptor {
  override handleUpdate: OpenTelemetryInboundInterceptor['handleUpdate'] = (input, next) => next(input);
  override validateUpdate: OpenTelemetryInboundInterceptor['validateUpdate'] = (input, next) => next(input);
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new InboundWithoutUpdates()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
