import { ENTITY_SETS, EntitySet, SINGLETONS } from './entity-sets';
import { GraphContext, GraphResponse, GraphError, json, noContent, notFound, badRequest } from './types';
import { checkQueryOptions, parseFilter, parseSearch } from './query';
import { createInSet, deleteFromSet, getFromSet, getItem, listSet, requireAny, updateInSet } from './collections';
import {
  addPassword,
  addRef,
  appRoleAssignments,
  readRelation,
  methodNotAllowed,
  removePassword,
  removeRef,
} from './relations';
import { deletedItems } from './deleted-items';
import { scopedRoleMembers } from './scoped-role-members';
import { federatedIdentityCredentials } from './federated-credentials';
import { createRoleAssignment, deleteRoleAssignment } from './role-assignments';
import { delta } from './delta';
import { directoryAudits } from './audit-log';

const SETS_BY_LENGTH = [...ENTITY_SETS].sort((a, b) => b.path.split('/').length - a.path.split('/').length);

export function splitPath(path: string): string[] {
  return path
    .split('?')[0]
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
}

/** Routes one Graph v1.0 request (already authenticated and admitted by throttling). */
export function dispatch(ctx: GraphContext): GraphResponse {
  const { method } = ctx.req;
  checkQueryOptions(ctx.req.query);
  const seg = alternateKey(ctx, splitPath(ctx.req.path));
  const joined = seg.join('/');

  if (seg[0] === 'directory' && seg[1] === 'deletedItems') return deletedItems(ctx, seg.slice(2));
  if (seg[0] === 'auditLogs' && seg[1] === 'directoryAudits') return directoryAudits(ctx, seg.slice(2));

  const singleton = SINGLETONS.find((s) => s.path === joined);
  if (singleton) return singletonHandler(ctx, singleton.path, singleton.context, singleton.read, singleton.write);
  if (joined.startsWith('policies/crossTenantAccessPolicy/partners')) return partners(ctx, seg.slice(3));
  if (joined.startsWith('policies/authenticationMethodsPolicy/authenticationMethodConfigurations')) {
    return methodConfigurations(ctx, seg.slice(3));
  }

  const set = SETS_BY_LENGTH.find((s) => {
    const p = s.path.split('/');
    return p.every((x, i) => seg[i] === x);
  });
  if (!set) throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${seg[0] ?? ''}'.`);
  const rest = seg.slice(set.path.split('/').length);
  if (rest.length === 0) {
    if (method === 'GET') return listSet(ctx, set);
    if (method === 'POST' && set.kind === 'unifiedRoleAssignment') return createRoleAssignment(ctx, set);
    if (method === 'POST') return createInSet(ctx, set);
    throw methodNotAllowed();
  }
  if (rest[0] === '$count' && rest.length === 1 && method === 'GET') return count(ctx, set);
  if ((rest[0] === 'delta' || rest[0] === 'microsoft.graph.delta') && rest.length === 1 && method === 'GET') {
    if (!set.delta) throw new GraphError(400, 'BadRequest', `Resource not found for the segment 'delta'.`);
    return delta(ctx, set);
  }
  const id = rest[0];
  if (rest.length === 1) {
    if (method === 'GET') return getItem(ctx, set, id);
    if (method === 'PATCH') return updateInSet(ctx, set, id);
    if (method === 'DELETE' && set.kind === 'unifiedRoleAssignment') return deleteRoleAssignment(ctx, set, id);
    if (method === 'DELETE') return deleteFromSet(ctx, set, id);
    throw methodNotAllowed();
  }
  return relation(ctx, set, id, rest.slice(1));
}

/**
 * `applications(appId='…')` and `servicePrincipals(appId='…')`: the alternate key Graph accepts in place of the id
 * (https://learn.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/serviceprincipal-get?view=graph-rest-1.0). Rewritten to the id.
 */
function alternateKey(ctx: GraphContext, seg: string[]): string[] {
  const m = /^(applications|servicePrincipals)\(appId='([^']*)'\)$/.exec(seg[0] ?? '');
  if (!m) return seg;
  const kind = m[1] === 'applications' ? 'application' : 'servicePrincipal';
  const obj = ctx.tenant.list(kind).find((o) => String(o.data.appId).toLowerCase() === m[2].toLowerCase());
  if (!obj) throw notFound(`${m[1]}(appId='${m[2]}')`);
  return [m[1], obj.id, ...seg.slice(1)];
}

function relation(ctx: GraphContext, set: EntitySet, id: string, rest: string[]): GraphResponse {
  const { method } = ctx.req;
  if (set.kind === 'application' && rest[0] === 'federatedIdentityCredentials' && rest.length <= 2) {
    return federatedIdentityCredentials(ctx, set, id, rest[1]);
  }
  if (set.kind === 'administrativeUnit' && rest[0] === 'scopedRoleMembers' && rest.length <= 2) {
    return scopedRoleMembers(ctx, set, id, rest[1]);
  }
  requireAny(ctx, [
    ...set.read,
    ...set.write,
    'GroupMember.Read.All',
    'GroupMember.ReadWrite.All',
    'AppRoleAssignment.ReadWrite.All',
  ]);
  const owner = getFromSet(ctx, set, id);
  const [rel, a, b] = rest;
  const hasMembers = set.kind === 'group' || set.kind === 'administrativeUnit' || set.kind === 'directoryRole';
  const hasOwners = set.kind === 'group' || set.kind === 'application' || set.kind === 'servicePrincipal';
  if (
    (rel === 'members' && hasMembers) ||
    (rel === 'owners' && hasOwners) ||
    (rel === 'transitiveMembers' && set.kind === 'group')
  ) {
    const r = rel as 'members' | 'owners' | 'transitiveMembers';
    if (method === 'GET' && (a === undefined || a.startsWith('microsoft.graph.')) && b === undefined)
      return readRelation(ctx, set, owner, r, a, 'list');
    if (method === 'GET' && (a === '$count' ? b === undefined : a?.startsWith('microsoft.graph.') && b === '$count'))
      return readRelation(ctx, set, owner, r, a === '$count' ? undefined : a, 'count');
    if (r === 'transitiveMembers' || set.kind === 'directoryRole') throw methodNotAllowed();
    if (method === 'POST' && a === '$ref' && b === undefined) return addRef(ctx, set, owner, r);
    if (method === 'DELETE' && a !== undefined && b === '$ref') return removeRef(ctx, set, owner, r, a);
    throw methodNotAllowed();
  }
  if (
    set.kind === 'servicePrincipal' &&
    (rel === 'appRoleAssignments' || rel === 'appRoleAssignedTo') &&
    b === undefined
  ) {
    return appRoleAssignments(ctx, owner, rel, a);
  }
  if (set.kind === 'application' && rel === 'addPassword' && method === 'POST' && a === undefined)
    return addPassword(ctx, set, owner);
  if (set.kind === 'application' && rel === 'removePassword' && method === 'POST' && a === undefined)
    return removePassword(ctx, set, owner);
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${rel}'.`);
}

/** /{set}/$count needs ConsistencyLevel: eventual (https://learn.microsoft.com/en-us/graph/aad-advanced-queries). */
function count(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.read);
  if (ctx.req.headers['consistencylevel'] !== 'eventual') throw badRequest('$count is not currently supported.');
  // Counts what $filter and $search select, as the documented `/users/$count?$filter=…` and `$search` examples do:
  // https://learn.microsoft.com/en-us/graph/aad-advanced-queries
  const filter = parseFilter(ctx.req.query);
  const search = parseSearch(ctx.req.query, ctx.req.headers);
  const sw = filter?.startsWith;
  const n =
    sw && !search
      ? ctx.tenant.startsWith.count(set.kind, sw.prop, sw.prefix)
      : filter || search
        ? ctx.tenant.list(set.kind).filter((o) => (!filter || filter(o.data, o.id)) && (!search || search(o.data)))
            .length
        : ctx.tenant.collection(set.kind).size;
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, text: String(n) };
}

function singletonHandler(
  ctx: GraphContext,
  key: string,
  context: string,
  read: string[],
  write: string[],
): GraphResponse {
  const data = ctx.tenant.singletons.get(key);
  if (!data) throw notFound(key);
  if (ctx.req.method === 'GET') {
    requireAny(ctx, read);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#${context}`, ...data });
  }
  if (ctx.req.method === 'PATCH') {
    requireAny(ctx, write);
    const body = (ctx.req.body ?? {}) as Record<string, unknown>;
    if ('id' in body) throw badRequest("Property 'id' is read-only and cannot be set.");
    Object.assign(data, body);
    return noContent();
  }
  throw methodNotAllowed();
}

const CTAP_READ = ['Policy.Read.All', 'Policy.ReadWrite.CrossTenantAccess'];
const CTAP_WRITE = ['Policy.ReadWrite.CrossTenantAccess'];

function partners(ctx: GraphContext, rest: string[]): GraphResponse {
  const list = (ctx.tenant.singletons.get('policies/crossTenantAccessPolicy/partners')?.value ?? []) as Record<
    string,
    unknown
  >[];
  const ctxName = 'policies/crossTenantAccessPolicy/partners';
  const { method } = ctx.req;
  if (rest.length === 0 && method === 'GET') {
    requireAny(ctx, CTAP_READ);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#${ctxName}`, value: list });
  }
  if (rest.length === 0 && method === 'POST') {
    requireAny(ctx, CTAP_WRITE);
    const body = (ctx.req.body ?? {}) as Record<string, unknown>;
    if (!body.tenantId) throw badRequest("Invalid value specified for property 'tenantId'.");
    list.push(body);
    ctx.tenant.singletons.set(ctxName, { value: list });
    return json(201, { '@odata.context': `${ctx.root}/$metadata#${ctxName}/$entity`, ...body });
  }
  const idx = list.findIndex((p) => p.tenantId === rest[0]);
  if (idx < 0) throw notFound(rest[0]);
  if (method === 'GET') {
    requireAny(ctx, CTAP_READ);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#${ctxName}/$entity`, ...list[idx] });
  }
  requireAny(ctx, CTAP_WRITE);
  if (method === 'PATCH') Object.assign(list[idx], ctx.req.body ?? {});
  else if (method === 'DELETE') list.splice(idx, 1);
  else throw methodNotAllowed();
  return noContent();
}

function methodConfigurations(ctx: GraphContext, rest: string[]): GraphResponse {
  const policy = ctx.tenant.singletons.get('policies/authenticationMethodsPolicy');
  const configs = (policy?.authenticationMethodConfigurations ?? []) as Record<string, unknown>[];
  const read = ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.Read.All'];
  const ctxName = 'policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
  if (rest.length === 0 && ctx.req.method === 'GET') {
    requireAny(ctx, read);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#${ctxName}`, value: configs });
  }
  const c = configs.find((x) => String(x.id).toLowerCase() === (rest[0] ?? '').toLowerCase());
  if (!c) throw notFound(rest[0] ?? '');
  if (ctx.req.method === 'GET') {
    requireAny(ctx, read);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#${ctxName}/$entity`, ...c });
  }
  if (ctx.req.method === 'PATCH') {
    requireAny(ctx, ['Policy.ReadWrite.AuthenticationMethod']);
    Object.assign(c, ctx.req.body ?? {});
    return noContent();
  }
  throw methodNotAllowed();
}
