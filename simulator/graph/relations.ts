import { randomUUID } from 'node:crypto';
import type * as MG from '@microsoft/microsoft-graph-types';
import { EntityKind, StoredObject } from '../store/types';
import { EntitySet } from './entity-sets';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound } from './types';
import { idFromODataId, pageOf, requireAny, type LazyList } from './collections';
import { parseFilter } from './query';
import { addAppRoleAssignment, assignmentsOf, assignmentsTo } from '../identity/consent';
import { render } from './render';
import { contextUrl } from './collections';
import { recordAppRoleAssignment, recordApplicationUpdate, recordRelationChange } from './audit-log';

const MEMBER_READ_EXTRA = ['GroupMember.Read.All', 'GroupMember.ReadWrite.All'];
const MEMBER_WRITE_EXTRA = ['GroupMember.ReadWrite.All'];

function relationIds(ctx: GraphContext, owner: StoredObject, rel: 'members' | 'owners'): Set<string> | undefined {
  return rel === 'members' ? ctx.tenant.members.get(owner.id) : ctx.tenant.owners.get(owner.id);
}

/**
 * GET {set}/{id}/members|owners[/microsoft.graph.{type}] — directoryObjects with @odata.type
 * (https://learn.microsoft.com/en-us/graph/api/group-list-members?view=graph-rest-1.0) — or, with `what` 'count',
 * `…/$count[?$filter=…]`, an advanced query (same page, "Get only a count of all memberships"): `ConsistencyLevel:
 * eventual` is required.
 */
export function readRelation(
  ctx: GraphContext,
  set: EntitySet,
  owner: StoredObject,
  rel: 'members' | 'owners' | 'transitiveMembers',
  cast: string | undefined,
  what: 'list' | 'count',
): GraphResponse {
  requireAny(ctx, rel === 'owners' ? set.read : [...set.read, ...(set.kind === 'group' ? MEMBER_READ_EXTRA : [])]);
  const { ids, castKind } = relatedIds(ctx, owner, rel, cast);
  if (what === 'count') {
    if (ctx.req.headers['consistencylevel'] !== 'eventual') throw badRequest('$count is not currently supported.');
    const filter = parseFilter(ctx.req.query);
    const sw = filter?.startsWith;
    const kind = indexedKind(rel, castKind);
    let n = sw && kind ? ctx.tenant.startsWith.countMembers(owner.id, kind, sw.prop, sw.prefix) : undefined;
    if (n === undefined) {
      n = 0;
      for (const id of ids) {
        const o = ctx.tenant.index.get(id);
        if (o && (!castKind || o.kind === castKind) && (!filter || filter(o.data, o.id))) n++;
      }
    }
    return { status: 200, headers: { 'Content-Type': 'text/plain' }, text: String(n) };
  }
  // $filter on a relationship is an advanced query (the group-list-members examples send `$count=true` and
  // `ConsistencyLevel: eventual` with it; https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
  if (ctx.req.query.has('$filter')) requireAdvanced(ctx, 'startsWith');
  const objs: StoredObject[] = [];
  let source: readonly StoredObject[] | LazyList = objs;
  const indexed = indexedMembers(ctx, owner, rel, castKind);
  if (indexed) source = indexed;
  else if (castKind || rel === 'transitiveMembers') {
    for (const id of ids) {
      const o = ctx.tenant.index.get(id);
      if (o && (!castKind || o.kind === castKind)) objs.push(o);
    }
  } else {
    // Only the page asked for is looked up; an id whose object is in the recycle bin is left out of its page, which
    // may then hold fewer items than $top (Graph: "a page of results may contain zero or more results").
    const all = Array.from(ids);
    source = {
      length: all.length,
      slice: (start: number, end: number) => all.slice(start, end).flatMap((id) => ctx.tenant.index.get(id) ?? []),
    };
  }
  return pageOf(ctx, source, {
    contextName: castKind ? `${castKind}s` : 'directoryObjects',
    defaultTop: 100,
    maxTop: 999,
    paged: set.kind !== 'directoryRole',
    withType: !castKind,
    startsWith: indexed ? () => indexed : undefined,
  });
}

/** The kind whose `startswith` index answers a filtered cast list of members (a stored kind: not orgContact). */
function indexedKind(rel: string, castKind: string | undefined): EntityKind | undefined {
  return rel === 'members' && castKind && castKind !== 'orgContact' ? (castKind as EntityKind) : undefined;
}

/**
 * A member partition (`members/microsoft.graph.user?$filter=startswith(…)`, the backup's read of a large group) from
 * the index: the members the filter selects in the member list's order, or undefined to scan the list. An invalid
 * `$filter` is left for pageOf to reject, after `$select` as before.
 */
function indexedMembers(
  ctx: GraphContext,
  owner: StoredObject,
  rel: string,
  castKind: string | undefined,
): readonly StoredObject[] | undefined {
  const kind = indexedKind(rel, castKind);
  if (!kind || !ctx.req.query.has('$filter')) return undefined;
  let sw;
  try {
    sw = parseFilter(ctx.req.query)?.startsWith;
  } catch {
    return undefined;
  }
  return sw && ctx.tenant.startsWith.members(owner.id, kind, sw.prop, sw.prefix);
}

function relatedIds(
  ctx: GraphContext,
  owner: StoredObject,
  rel: 'members' | 'owners' | 'transitiveMembers',
  cast?: string,
): { ids: Iterable<string>; castKind?: string } {
  const ids: Iterable<string> =
    rel === 'transitiveMembers' ? transitive(ctx, owner.id) : (relationIds(ctx, owner, rel) ?? []);
  if (!cast) return { ids };
  const castKind = cast.replace(/^microsoft\.graph\./, '');
  if (!['user', 'group', 'servicePrincipal', 'device', 'orgContact', 'application'].includes(castKind)) {
    throw badRequest(`Casting to '${cast}' is not supported on this relationship.`, 'Request_UnsupportedQuery');
  }
  return { ids, castKind };
}

/** 400 for an advanced-only construct sent without `$count=true` and `ConsistencyLevel: eventual`
 * (https://learn.microsoft.com/en-us/graph/aad-advanced-queries). */
function requireAdvanced(ctx: GraphContext, operator: string): void {
  if (ctx.req.query.get('$count') === 'true' && ctx.req.headers['consistencylevel'] === 'eventual') return;
  throw badRequest(
    `Operator '${operator}' is not supported because the required parameters might be missing. Try adding $count=true ` +
      'query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for ' +
      'more information',
    'Request_UnsupportedQuery',
  );
}

function transitive(ctx: GraphContext, groupId: string): Set<string> {
  const out = new Set<string>();
  const stack = [groupId];
  const seen = new Set<string>();
  while (stack.length) {
    const g = stack.pop() as string;
    if (seen.has(g)) continue;
    seen.add(g);
    for (const m of ctx.tenant.members.get(g) ?? []) {
      out.add(m);
      if (ctx.tenant.index.get(m)?.kind === 'group') stack.push(m);
    }
  }
  return out;
}

/**
 * POST {set}/{id}/members/$ref (https://learn.microsoft.com/en-us/graph/api/group-post-members?view=graph-rest-1.0).
 */
export function addRef(
  ctx: GraphContext,
  set: EntitySet,
  owner: StoredObject,
  rel: 'members' | 'owners',
): GraphResponse {
  requireAny(ctx, [...set.write, ...(set.kind === 'group' && rel === 'members' ? MEMBER_WRITE_EXTRA : [])]);
  const body = ctx.req.body as Record<string, unknown> | undefined;
  const ref = body?.['@odata.id'];
  if (typeof ref !== 'string') throw badRequest("Missing '@odata.id' in the request body.");
  const id = idFromODataId(ref);
  if (!ctx.tenant.get(id)) throw notFound(id);
  const existing = relationIds(ctx, owner, rel);
  if (existing?.has(id)) {
    throw badRequest(
      `One or more added object references already exist for the following modified properties: '${rel}'.`,
    );
  }
  if (rel === 'members') ctx.tenant.addMember(owner.id, id);
  else {
    ctx.tenant.ownerSet(owner.id).add(id);
    ctx.tenant.touch(owner.id);
  }
  recordRelationChange(
    ctx.tenant,
    ctx.state.clock.isoPrecise(),
    { appId: ctx.appId },
    owner,
    rel,
    ctx.tenant.get(id)!,
    true,
  );
  return noContent();
}

/**
 * DELETE {set}/{id}/members/{memberId}/$ref
 * (https://learn.microsoft.com/en-us/graph/api/group-delete-members?view=graph-rest-1.0).
 */
export function removeRef(
  ctx: GraphContext,
  set: EntitySet,
  owner: StoredObject,
  rel: 'members' | 'owners',
  memberId: string,
): GraphResponse {
  requireAny(ctx, [...set.write, ...(set.kind === 'group' && rel === 'members' ? MEMBER_WRITE_EXTRA : [])]);
  const ok =
    rel === 'members'
      ? ctx.tenant.removeMember(owner.id, memberId)
      : (ctx.tenant.owners.get(owner.id)?.delete(memberId) ?? false);
  if (!ok) throw notFound(memberId);
  if (rel === 'owners') ctx.tenant.touch(owner.id);
  const related = ctx.tenant.getAny(memberId);
  if (related)
    recordRelationChange(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, owner, rel, related, false);
  return noContent();
}

const ASSIGN_READ = [
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
];
const ASSIGN_WRITE = ['AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'];

export function appRoleAssignments(
  ctx: GraphContext,
  sp: StoredObject,
  rel: 'appRoleAssignments' | 'appRoleAssignedTo',
  assignmentId?: string,
): GraphResponse {
  const method = ctx.req.method;
  const list = rel === 'appRoleAssignments' ? assignmentsOf(ctx.tenant, sp.id) : assignmentsTo(ctx.tenant, sp.id);
  const contextName = `servicePrincipals('${sp.id}')/${rel}`;
  if (method === 'GET' && !assignmentId) {
    requireAny(ctx, ASSIGN_READ);
    return pageOf(ctx, list, { kind: 'appRoleAssignment', contextName, defaultTop: 100, maxTop: 999, paged: true });
  }
  if (method === 'GET' && assignmentId) {
    requireAny(ctx, ASSIGN_READ);
    const a = list.find((x) => x.id === assignmentId);
    if (!a) throw notFound(assignmentId);
    return json(200, {
      '@odata.context': `${contextUrl(ctx, contextName)}/$entity`,
      ...render(a, undefined, undefined),
    });
  }
  if (method === 'POST' && !assignmentId) {
    requireAny(ctx, ASSIGN_WRITE);
    const b = (ctx.req.body ?? {}) as MG.AppRoleAssignment;
    const principal = ctx.tenant.get(String(b.principalId));
    const resource = ctx.tenant.get(String(b.resourceId), 'servicePrincipal');
    if (!principal) throw notFound(String(b.principalId));
    if (!resource) throw notFound(String(b.resourceId));
    const roles = (resource.data.appRoles as MG.AppRole[] | undefined) ?? [];
    const zero = '00000000-0000-0000-0000-000000000000';
    if (b.appRoleId !== zero && !roles.some((r) => r.id === b.appRoleId)) {
      throw badRequest('Permission being assigned was not found on application', 'Request_BadRequest');
    }
    // Graph refuses a second identical assignment with 400 Request_BadRequest "Permission being assigned already
    // exists on the object" (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignedto?view=graph-rest-1.0;
    // the message as reported in https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/4628).
    if (
      assignmentsTo(ctx.tenant, resource.id).some(
        (x) => x.data.principalId === principal.id && x.data.appRoleId === b.appRoleId,
      )
    ) {
      throw badRequest('Permission being assigned already exists on the object', 'Request_BadRequest');
    }
    const a = addAppRoleAssignment(ctx.tenant, principal, resource, String(b.appRoleId), ctx.state.clock.iso());
    recordAppRoleAssignment(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, a, true);
    return json(201, {
      '@odata.context': `${contextUrl(ctx, contextName)}/$entity`,
      ...render(a, undefined, undefined),
    });
  }
  if (method === 'DELETE' && assignmentId) {
    requireAny(ctx, ASSIGN_WRITE);
    const a = list.find((x) => x.id === assignmentId);
    if (!a) throw notFound(assignmentId);
    recordAppRoleAssignment(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, a, false);
    ctx.tenant.remove(a, ctx.state.clock.iso(), true);
    ctx.tenant.grantVersion++;
    return noContent();
  }
  throw methodNotAllowed();
}

export const methodNotAllowed = () =>
  Object.assign(badRequest('Specified HTTP method is not allowed for the request target.'), { status: 405 });

/**
 * addPassword: secretText returned once, never stored in a readable form
 * (https://learn.microsoft.com/en-us/graph/api/resources/passwordcredential?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/application-addpassword?view=graph-rest-1.0).
 */
export function addPassword(ctx: GraphContext, set: EntitySet, app: StoredObject): GraphResponse {
  requireAny(ctx, set.write);
  const b = (ctx.req.body ?? {}) as { passwordCredential?: MG.PasswordCredential };
  const start = b.passwordCredential?.startDateTime ?? ctx.state.clock.iso();
  const end = b.passwordCredential?.endDateTime ?? twoYearsAfter(start);
  const secretText =
    randomUUID().replace(/-/g, '').slice(0, 8) + '~' + Buffer.from(randomUUID()).toString('base64url').slice(0, 31);
  const cred: MG.PasswordCredential = {
    customKeyIdentifier: null,
    displayName: b.passwordCredential?.displayName ?? null,
    endDateTime: end,
    hint: secretText.slice(0, 3),
    keyId: randomUUID(),
    startDateTime: start,
  };
  const creds = [...((app.data.passwordCredentials as MG.PasswordCredential[] | undefined) ?? []), cred];
  ctx.tenant.update(app, { passwordCredentials: creds });
  recordApplicationUpdate(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, app, 'KeyDescription');
  return json(200, {
    '@odata.context': `${ctx.root}/$metadata#microsoft.graph.passwordCredential`,
    ...cred,
    secretText,
  });
}

/**
 * "The default value for endDateTime is two years from startDateTime"
 * (https://learn.microsoft.com/en-us/graph/api/resources/passwordcredential?view=graph-rest-1.0): two calendar years,
 * not 730 days (a span holding 29 February is 731 days).
 */
export function twoYearsAfter(start: string): string {
  const d = new Date(start);
  d.setUTCFullYear(d.getUTCFullYear() + 2);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function removePassword(ctx: GraphContext, set: EntitySet, app: StoredObject): GraphResponse {
  requireAny(ctx, set.write);
  const keyId = (ctx.req.body as { keyId?: string } | undefined)?.keyId;
  const creds = (app.data.passwordCredentials as MG.PasswordCredential[] | undefined) ?? [];
  if (!keyId || !creds.some((c) => c.keyId === keyId)) throw notFound(String(keyId));
  ctx.tenant.update(app, { passwordCredentials: creds.filter((c) => c.keyId !== keyId) });
  recordApplicationUpdate(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, app, 'KeyDescription');
  return noContent();
}
