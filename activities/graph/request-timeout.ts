import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { requireNext } from './middleware-util';

/**
 * Gives every attempt its own deadline, so a connection that stalls without being reset fails and is retried
 * instead of holding an activity slot until the activity's own timeout. Placed just above the wire so time queued
 * in the pacer or at the Retry-After gate does not count. The deadline covers reading the body as well: fetch ties
 * the body stream to the same signal.
 */
export class RequestTimeoutHandler implements Middleware {
  private next?: Middleware;

  constructor(private readonly timeoutMs: number) {}

  async execute(context: Context): Promise<void> {
    context.options ??= {};
    context.options.signal = AbortSignal.timeout(this.timeoutMs);
    await requireNext(this.next, 'RequestTimeoutHandler').execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
