import { ApplicationFailure } from '@temporalio/common';
import { isAuthFailureKind, type EntraConfig } from '../temporal.config';
import { authFailure } from './graph/auth-failure';
import { classifyGraphError, createGraphClient } from './graph/graph-client';
import type { TokenProvider } from './graph/token-provider';
import { requiredRoles } from './consent';

/**
 * The first step of every backup: can the Backup app still read this tenant? Revoked consent or a lost permission
 * is reported as a non-retryable AuthFailure, which the tenant turns into "Reauthorization required". Anything else
 * (Graph or the identity platform unreachable, 5xx, timeouts) is a retryable `TenantUnreachable` whose message says
 * what happened in words: the run retries, then fails, and the tenant stays Active.
 */
export function createTenantAccessActivities(entra: EntraConfig, tokens: TokenProvider) {
  return {
    /**
     * Refuses (non-retryable) when the tenant refuses the app or the app holds no permission at all; with only some
     * permissions missing the backup goes on, capturing what it may, and reports the rest as skipped.
     */
    async checkTenantAccess(input: {
      directory: string;
    }): Promise<{ microsoftTenantId?: string; missingRoles: string[] }> {
      try {
        return await check(input.directory);
      } catch (err) {
        if (err instanceof ApplicationFailure && (isAuthFailureKind(err.type) || err.type === 'GraphThrottled'))
          throw err;
        const what = err instanceof Error ? err.message : String(err);
        throw ApplicationFailure.create({
          type: 'TenantUnreachable',
          message: `Microsoft Graph or the identity platform could not be reached: ${what}`,
          cause: err instanceof Error ? err : undefined,
        });
      }
    },
  };

  async function check(directory: string): Promise<{ microsoftTenantId?: string; missingRoles: string[] }> {
    const token = await tokens.acquire('backup', directory, true);
    const missing = requiredRoles('backup').filter((r) => !token.roles.includes(r));
    // An app-only token without roles is what revoked admin consent looks like
    // (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments?view=graph-rest-1.0).
    if (token.roles.length === 0)
      throw authFailure('PermissionMissing', 'the Backup app holds no permission in this tenant');
    const graph = createGraphClient(entra, async () => token.accessToken);
    try {
      await graph.api('/organization').select(['id']).get();
    } catch (err) {
      throw classifyGraphError(err);
    }
    return { microsoftTenantId: token.tenantId, missingRoles: missing };
  }
}
