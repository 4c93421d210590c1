import type { Response } from 'express';
import type { Principal } from '../../accounts/types';
import { ProblemError } from '../problem';

/** The authenticated caller of this request; `authenticate` has set it on every protected route. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ProblemError({ title: 'Unauthorized', status: 401, detail: 'an API key is required' });
  return principal;
}

/** How the audit trail names a caller: `reseller:{id}/key:{keyId}` or `organization-user:{orgId}/key:{keyId}`. */
export function actorOf(principal: Principal | undefined): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'reseller'
    ? `reseller:${principal.resellerId}/key:${principal.keyId}`
    : `organization-user:${principal.organizationId}/key:${principal.keyId}`;
}
