import { randomUUID } from 'node:crypto';
import { EntitySet } from './entity-sets';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound } from './types';
import { contextUrl, getFromSet, requireAny } from './collections';
import { render } from './render';
import { StoredObject } from '../store/types';

/**
 * POST and DELETE of /roleManagement/directory/roleAssignments (unifiedRoleAssignment), the way Graph documents them
 * (https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleassignments?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/unifiedroleassignment-delete?view=graph-rest-1.0):
 * - principalId and roleDefinitionId required, and directoryScopeId or appScopeId;
 * - directoryScopeId is `/` (tenant), `/administrativeUnits/{id}` or `/{application object id}`;
 * - "Supported principals are users, role-assignable groups, and service principals"
 *   (https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment?view=graph-rest-1.0): a group needs
 *   isAssignableToRole (set at its creation);
 * - the same principal, role and scope twice answers 400 Request_BadRequest "A conflicting object with one or more of
 *   the specified property values is present in the directory." (as captured in
 *   https://github.com/dod-ccpo/atat/pull/1554).
 * A tenant-wide assignment of a role whose directoryRole is activated also shows the principal among that role's
 * members (the legacy view of the same assignment), and leaves it on delete.
 */
const PRINCIPAL_KINDS = new Set(['user', 'group', 'servicePrincipal']);
const CONFLICT = 'A conflicting object with one or more of the specified property values is present in the directory.';

function activatedRole(ctx: GraphContext, roleDefinitionId: string): StoredObject | undefined {
  return ctx.tenant.list('directoryRole').find((r) => r.data.roleTemplateId === roleDefinitionId);
}

export function createRoleAssignment(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.write);
  const body = ctx.req.body as Record<string, unknown> | null;
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('Empty Payload. JSON content expected.');
  if ('id' in body) throw badRequest(`Property 'id' is read-only and cannot be set.`);
  for (const p of ['principalId', 'roleDefinitionId']) {
    if (typeof body[p] !== 'string' || !body[p])
      throw badRequest(`Invalid value specified for property '${p}' of resource 'unifiedRoleAssignment'.`);
  }
  const scope = body.directoryScopeId ?? null;
  const appScope = body.appScopeId ?? null;
  if ((scope === null && appScope === null) || (scope !== null && typeof scope !== 'string'))
    throw badRequest(
      `Invalid value specified for property 'directoryScopeId' of resource 'unifiedRoleAssignment': either directoryScopeId or appScopeId must be specified.`,
    );
  const principalId = String(body.principalId);
  const roleDefinitionId = String(body.roleDefinitionId);
  const principal = ctx.tenant.get(principalId);
  if (!principal || !PRINCIPAL_KINDS.has(principal.kind)) throw notFound(principalId);
  if (principal.kind === 'group' && principal.data.isAssignableToRole !== true)
    throw badRequest(
      `The group '${principalId}' is not role-assignable: only groups created with isAssignableToRole can be assigned roles.`,
    );
  const definition = ctx.tenant
    .list('unifiedRoleDefinition')
    .find((d) => d.id === roleDefinitionId || d.data.templateId === roleDefinitionId);
  if (!definition)
    throw badRequest(`Invalid value specified for property 'roleDefinitionId' of resource 'unifiedRoleAssignment'.`);
  if (typeof scope === 'string' && scope !== '/') {
    const au = /^\/administrativeUnits\/([^/]+)$/.exec(scope);
    const target = au ? ctx.tenant.get(au[1], 'administrativeUnit') : ctx.tenant.get(scope.slice(1), 'application');
    if (!target) throw notFound(au ? au[1] : scope.slice(1));
  }
  const existing = ctx.tenant
    .list('unifiedRoleAssignment')
    .some(
      (a) =>
        a.data.principalId === principalId &&
        a.data.roleDefinitionId === roleDefinitionId &&
        (a.data.directoryScopeId ?? null) === scope &&
        (a.data.appScopeId ?? null) === appScope,
    );
  if (existing) throw badRequest(CONFLICT);
  const id = randomUUID();
  const obj = ctx.tenant.insert('unifiedRoleAssignment', id, {
    id,
    principalId,
    roleDefinitionId,
    directoryScopeId: scope,
    appScopeId: appScope,
  });
  const role = scope === '/' ? activatedRole(ctx, roleDefinitionId) : undefined;
  if (role) ctx.tenant.addMember(role.id, principalId);
  return json(201, { '@odata.context': contextUrl(ctx, set.contextName) + '/$entity', ...render(obj, set, undefined) });
}

export function deleteRoleAssignment(ctx: GraphContext, set: EntitySet, id: string): GraphResponse {
  requireAny(ctx, set.write);
  const obj = getFromSet(ctx, set, id);
  ctx.tenant.remove(obj, ctx.state.clock.iso(), true);
  const principalId = String(obj.data.principalId);
  const roleDefinitionId = String(obj.data.roleDefinitionId);
  const role = obj.data.directoryScopeId === '/' ? activatedRole(ctx, roleDefinitionId) : undefined;
  const stillAssigned = ctx.tenant
    .list('unifiedRoleAssignment')
    .some(
      (a) =>
        a.data.principalId === principalId &&
        a.data.roleDefinitionId === roleDefinitionId &&
        a.data.directoryScopeId === '/',
    );
  if (role && !stillAssigned) ctx.tenant.removeMember(role.id, principalId);
  return noContent();
}
