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
  return signal ? withCallSignal(signal, (callSignal) => client.withAbortSignal(callSignal, bounded)) : bounded();
}

/**
 * Runs `fn` with a signal of its own that aborts with `signal` while `fn` runs, and is then let go. The SDK's client
 * adds an 'abort' listener to the signal it is given for every gRPC call and never removes it
 * (@temporalio/client connection.js, generateRPCImplementation): given the activity's cancellation signal directly,
 * an activity that calls Temporal again and again (an export's progress signals, every 2 s) piled a listener onto it
 * per call, until Node warned (MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]).
 */
async function withCallSignal<R>(signal: AbortSignal, fn: (callSignal: AbortSignal) => Promise<R>): Promise<R> {
  const call = new AbortController();
  const forward = () => call.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  try {
    return await fn(call.signal);
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // called outside an activity (a script, a test)
  }
}
