import type { NextFunction, Request, Response } from 'express';
import type { AccountsDirectory, Organization, Principal } from '../../accounts/types';
import { notFound, ProblemError } from '../problem';
import { principalOf } from './principal';

export const resellersOnlyMessage = 'organizations cannot manage Entra backups; only resellers can';

/** Route guard: organization users are refused with 403 and a message saying why. */
export function requireReseller(_req: Request, res: Response, next: NextFunction): void {
  const principal = principalOf(res);
  if (principal.kind !== 'reseller') {
    throw new ProblemError({ title: 'Forbidden', status: 403, detail: resellersOnlyMessage });
  }
  next();
}

/** The reseller principal of a route behind `requireReseller`. */
export function resellerOf(res: Response): Extract<Principal, { kind: 'reseller' }> {
  const principal = principalOf(res);
  if (principal.kind !== 'reseller') {
    throw new ProblemError({ title: 'Forbidden', status: 403, detail: resellersOnlyMessage });
  }
  return principal;
}

/**
 * The organization if the caller may see it: one of a reseller's own, or an organization user's own. Anything else
 * answers 404, exactly like an id that does not exist, so other resellers' ids do not leak.
 */
export async function ownedOrganization(
  accounts: AccountsDirectory,
  principal: Principal,
  organizationId: string,
): Promise<Organization> {
  const visible = principal.kind === 'reseller' || principal.organizationId === organizationId;
  const organization = visible ? await accounts.getOrganization(principal.resellerId, organizationId) : undefined;
  if (!organization || organization.resellerId !== principal.resellerId) {
    throw notFound(`organization '${organizationId}'`);
  }
  return organization;
}
