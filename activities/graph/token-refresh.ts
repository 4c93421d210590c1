import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphStats } from './graph-stats';
import { discardBody, requireNext, setRequestHeader } from './middleware-util';

/**
 * A 401 from Graph means the token it got is no longer good (expired early, signing keys rolled, tenant-wide token
 * revocation: https://learn.microsoft.com/en-us/graph/errors) although msal's cache still holds it. Retry once with a
 * token acquired past the
 * cache; a second 401 goes back to the caller, who retries the activity later.
 */
export class TokenRefreshHandler implements Middleware {
  private next?: Middleware;

  constructor(
    /** A token acquired without msal's cache (TokenProvider.acquire(app, directory, true)). */
    private readonly refreshAccessToken: () => Promise<string>,
    private readonly stats: GraphStats,
  ) {}

  async execute(context: Context): Promise<void> {
    const next = requireNext(this.next, 'TokenRefreshHandler');
    await next.execute(context);
    if (context.response?.status !== 401) return;
    const token = await this.refreshAccessToken();
    await discardBody(context.response);
    this.stats.tokenRefreshes++;
    setRequestHeader(context, 'Authorization', `Bearer ${token}`);
    await next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
