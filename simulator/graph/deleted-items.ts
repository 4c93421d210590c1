import { EntityKind, SOFT_DELETABLE } from '../store/types';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound, GraphError } from './types';
import { pageOf, requireAny, setOf } from './collections';
import { render } from './render';
import { recordObjectChange } from './audit-log';
import { SET_BY_KIND } from './entity-sets';

const RESTORE_ROLES: Partial<Record<EntityKind, string[]>> = {
  user: ['User.ReadWrite.All', 'User.DeleteRestore.All', 'Directory.ReadWrite.All'],
  group: ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  application: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'Directory.ReadWrite.All'],
  servicePrincipal: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'Directory.ReadWrite.All'],
  administrativeUnit: ['AdministrativeUnit.ReadWrite.All', 'Directory.ReadWrite.All'],
};

/**
 * /directory/deletedItems
 * (https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list?view=graph-rest-1.0):
 * https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list?view=graph-rest-1.0
 */
export function deletedItems(ctx: GraphContext, rest: string[]): GraphResponse {
  const { method } = ctx.req;
  ctx.tenant.purgeExpired(ctx.state.clock.now());
  if (rest.length === 0) {
    // https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list?view=graph-rest-1.0,
    // https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/4424: the cast is required; HTTP status
    // unverified, 400 chosen.
    throw badRequest(
      'Searches against this resource are not supported. Only specific instances can be queried.',
      'Request_UnsupportedQuery',
    );
  }
  const first = rest[0];
  if (first.startsWith('microsoft.graph.') && method === 'GET') {
    const kind = first.slice('microsoft.graph.'.length) as EntityKind;
    if (!SOFT_DELETABLE.has(kind))
      throw badRequest(`Resource type '${first}' is not supported.`, 'Request_UnsupportedQuery');
    const set = SET_BY_KIND.get(kind);
    requireAny(ctx, set?.read ?? []);
    const items = [...ctx.tenant.recycleBin.values()].filter((o) => o.kind === kind);
    return pageOf(ctx, items, {
      set,
      contextName: set?.contextName ?? `${kind}s`,
      defaultTop: 100,
      maxTop: 999,
      paged: true,
    });
  }
  const obj = ctx.tenant.recycleBin.get(first);
  if (!obj) throw notFound(first);
  const set = setOf(obj.kind);
  if (rest.length === 1 && method === 'GET') {
    requireAny(ctx, set?.read ?? []);
    return json(200, {
      '@odata.context': `${ctx.root}/$metadata#directoryObjects/$entity`,
      ...render(obj, set, undefined, { withType: true }),
    });
  }
  if (rest.length === 1 && method === 'DELETE') {
    // https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-delete?view=graph-rest-1.0: permanent
    // deletion, 204.
    requireAny(ctx, RESTORE_ROLES[obj.kind] ?? []);
    ctx.tenant.permanentlyDelete(obj.id);
    return noContent();
  }
  if (rest.length === 2 && rest[1] === 'restore' && method === 'POST') {
    requireAny(ctx, RESTORE_ROLES[obj.kind] ?? []);
    if (obj.kind === 'user') {
      const upn = String(obj.data.userPrincipalName).toLowerCase();
      if (ctx.tenant.list('user').some((u) => String(u.data.userPrincipalName).toLowerCase() === upn)) {
        throw badRequest('Another object with the same value for property userPrincipalName already exists.');
      }
    }
    const restored = ctx.tenant.restore(obj.id);
    if (!restored) throw notFound(first);
    if (restored.kind === 'servicePrincipal') ctx.tenant.grantVersion++;
    // "Restore user", "Restore group"… as the control API's restore records it.
    recordObjectChange(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, restored, 'Restore');
    return json(200, {
      '@odata.context': `${ctx.root}/$metadata#directoryObjects/$entity`,
      ...render(restored, set, undefined, { withType: true }),
    });
  }
  throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
}
