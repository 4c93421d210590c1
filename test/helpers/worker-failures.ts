import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * Why a worker failed, by task queue, as the SDK logged it ("Worker failed"). `Worker.run()` finalizes the worker in a
 * `finally` block; when its streams ended with an error (most often GracefulShutdownPeriodExpiredError: an activity
 * still running `shutdownForceTime` after shutdown began), core still holds that worker's pending poll and the
 * finalize throws "Worker still in use: Expected 1 reference, but got 2", which replaces the error that caused it.
 * (@temporalio/worker 1.24: worker.ts runInternal, core-bridge worker.rs worker_finalize_shutdown.)
 */
const failures = new Map<string, unknown>();

/** The tests' Runtime logger (warnings and errors only), remembering each worker's failure for `unmaskedRunError`. */
export class FailureRecordingLogger extends DefaultLogger {
  constructor() {
    super('WARN');
  }

  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === 'Worker failed' && typeof meta?.taskQueue === 'string') failures.set(meta.taskQueue, meta.error);
    super.log(level, message, meta);
  }
}

/** What `Worker.run()` rejected with, or the failure the SDK's "still in use" error hid. */
export function unmaskedRunError(err: unknown, taskQueue: string): unknown {
  const cause = failures.get(taskQueue);
  failures.delete(taskQueue);
  if (!(err instanceof Error) || !/still in use/.test(err.message) || cause === undefined) return err;
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new Error(`the worker failed while it stopped: ${reason} (then run() threw "${err.message}")`, { cause });
}
