import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';

/** How long the Temporal calls of one activity may take together, unless the worker configures otherwise. */
export const defaultTemporalCallTimeoutMs = 30_000;

/**
 * Runs `fn`, whose calls through `client` then all share one deadline and end when the activity is cancelled (the
 * worker shuts down, the workflow gives up, the heartbeat times out). Without it a call to a Temporal server that
 * stopped answering waits as long as the gRPC default allows: the activity would hold its slot until its own
 * start-to-close timeout, while the server has long given up on it.
 * https://typescript.temporal.io/api/classes/client.Connection#withdeadline
 */
export function withTemporalDeadline<R>(
  client: Client,
  fn: () => Promise<R>,
  timeoutMs = defaultTemporalCallTimeoutMs,
): Promise<R> {
  const bounded = () => client.withDeadline(Date.now() + timeoutMs, fn);
  const signal = activityCancellation();
  return signal ? client.withAbortSignal(signal, bounded) : bounded();
}

function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // called outside an activity (a script, a test)
  }
}
