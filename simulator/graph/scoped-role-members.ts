import { randomUUID } from 'node:crypto';
import { EntitySet } from './entity-sets';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound } from './types';
import { contextUrl, getFromSet, pageOf, requireAny } from './collections';
import { methodNotAllowed } from './relations';
import { render } from './render';

/**
 * /directory/administrativeUnits/{id}/scopedRoleMembers (scopedRoleMembership: id, roleId, administrativeUnitId,
 * roleMemberInfo {id, displayName, userPrincipalName}). Application permissions, least first:
 * RoleManagement.Read.Directory, Directory.Read.All (read); RoleManagement.ReadWrite.Directory (write).
 * https://learn.microsoft.com/en-us/graph/api/administrativeunit-list-scopedrolemembers?view=graph-rest-1.0
 * https://learn.microsoft.com/en-us/graph/api/administrativeunit-post-scopedrolemembers?view=graph-rest-1.0
 * Memberships are stored as objects of kind `scopedRoleMembership` (so the control API can create them).
 */
const READ = [
  'RoleManagement.Read.Directory',
  'RoleManagement.Read.All',
  'RoleManagement.ReadWrite.Directory',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const WRITE = ['RoleManagement.ReadWrite.Directory', 'Directory.ReadWrite.All'];

export function scopedRoleMembers(
  ctx: GraphContext,
  set: EntitySet,
  auId: string,
  membershipId?: string,
): GraphResponse {
  const { method } = ctx.req;
  requireAny(ctx, method === 'GET' ? READ : WRITE);
  const au = getFromSet(ctx, set, auId);
  const list = ctx.tenant.list('scopedRoleMembership').filter((m) => m.data.administrativeUnitId === au.id);
  const contextName = `directory/administrativeUnits('${au.id}')/scopedRoleMembers`;
  if (method === 'GET' && membershipId === undefined) {
    return pageOf(ctx, list, { kind: 'scopedRoleMembership', contextName, defaultTop: 100, maxTop: 999, paged: true });
  }
  if (method === 'GET') {
    const m = list.find((x) => x.id === membershipId);
    if (!m) throw notFound(membershipId as string);
    return json(200, {
      '@odata.context': `${contextUrl(ctx, contextName)}/$entity`,
      ...render(m, undefined, undefined),
    });
  }
  if (method === 'POST' && membershipId === undefined) {
    const b = (ctx.req.body ?? {}) as { roleId?: string; roleMemberInfo?: { id?: string } };
    const role = ctx.tenant.get(String(b.roleId), 'directoryRole');
    if (!role) throw badRequest("Invalid value specified for property 'roleId' of resource 'scopedRoleMembership'.");
    const member = ctx.tenant.get(String(b.roleMemberInfo?.id));
    if (!member) throw notFound(String(b.roleMemberInfo?.id));
    if (list.some((x) => x.data.roleId === role.id && (x.data.roleMemberInfo as { id?: string })?.id === member.id)) {
      throw badRequest(
        'A conflicting object with one or more of the specified property values is present in the directory.',
      );
    }
    const id = randomUUID();
    const m = ctx.tenant.insert('scopedRoleMembership', id, {
      id,
      roleId: role.id,
      administrativeUnitId: au.id,
      roleMemberInfo: {
        id: member.id,
        displayName: member.data.displayName ?? null,
        userPrincipalName: member.data.userPrincipalName ?? null,
      },
    });
    return json(201, {
      '@odata.context': `${contextUrl(ctx, contextName)}/$entity`,
      ...render(m, undefined, undefined),
    });
  }
  if (method === 'DELETE' && membershipId !== undefined) {
    const m = list.find((x) => x.id === membershipId);
    if (!m) throw notFound(membershipId);
    ctx.tenant.remove(m, ctx.state.clock.iso(), true);
    return noContent();
  }
  throw methodNotAllowed();
}
