import { randomUUID } from 'node:crypto';
import { StoredObject, Json } from '../store/types';
import { EntitySet, SET_BY_KIND } from './entity-sets';
import { render } from './render';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound, forbidden } from './types';
import {
  decodeToken,
  encodeToken,
  nextLink,
  parseFilter,
  parseSearch,
  parseSelect,
  parseTop,
  type StartsWith,
} from './query';
import { checkSelect } from './properties';
import { findServicePrincipalByAppId } from '../identity/consent';
import { applyExpand, parseExpand } from './expand';
import { recordObjectChange, recordRelationChange } from './audit-log';

export function requireAny(ctx: GraphContext, roles: string[]): void {
  if (!roles.some((r) => ctx.roles.has(r))) throw forbidden();
}

export function contextUrl(ctx: GraphContext, name: string, select?: string[]): string {
  return `${ctx.root}/$metadata#${name}${select ? `(${select.join(',')})` : ''}`;
}

/** A list that builds only the page asked for (a large group's members are not all looked up for each page). */
export interface LazyList {
  length: number;
  slice(start: number, end: number): StoredObject[];
}

/**
 * A page of `items` with an opaque offset skiptoken; nextLink is absolute https
 * (https://learn.microsoft.com/en-us/graph/paging,
 * https://github.com/microsoftgraph/msgraph-sdk-javascript/blob/bfb564a/src/tasks/PageIterator.ts).
 */
export function pageOf(
  ctx: GraphContext,
  items: readonly StoredObject[] | LazyList,
  opts: {
    set?: EntitySet;
    /** Type of every item, for `$select` checking where no entity set applies (e.g. appRoleAssignments). */
    kind?: StoredObject['kind'];
    contextName: string;
    defaultTop: number;
    maxTop: number;
    paged: boolean;
    withType?: boolean;
    /**
     * The items a `startswith` filter selects, in the items' order, from an index (store/startswith-index.ts), or
     * undefined to filter the items one by one.
     */
    startsWith?: (filter: StartsWith) => readonly StoredObject[] | undefined;
  },
): GraphResponse {
  const select = checkSelect(opts.kind ?? opts.set?.kind, parseSelect(ctx.req.query), { collection: true });
  const filter = parseFilter(ctx.req.query);
  const search = parseSearch(ctx.req.query, ctx.req.headers);
  const top = opts.paged ? parseTop(ctx.req.query, opts.defaultTop, opts.maxTop) : Number.MAX_SAFE_INTEGER;
  let offset = 0;
  let chain: string = randomUUID();
  const skip = ctx.req.query.get('$skiptoken');
  if (skip !== null) {
    const t = decodeToken<{ o: number; c?: string }>(skip);
    if (!t || typeof t.o !== 'number') throw badRequest('The specified page token value has expired or is invalid.');
    offset = t.o;
    chain = t.c ?? chain;
  }
  // The field's page cap ignores a larger $top, as Graph did when it answered /users with 120 a page
  // (https://github.com/microsoftgraph/msgraph-sdk-powershell/issues/1898).
  const cap = opts.set && ctx.req.path === `/${opts.set.path}` ? ctx.state.faults.pageCap(opts.set.path) : undefined;
  const pageSize = cap !== undefined ? Math.min(top, cap) : top;
  const expand = opts.set ? parseExpand(ctx, opts.set.kind) : undefined;
  let source = items;
  if (filter || search) {
    const indexed = filter?.startsWith && opts.startsWith?.(filter.startsWith);
    if (indexed) source = search ? indexed.filter((o) => search(o.data)) : indexed;
    else
      source = items
        .slice(0, items.length)
        .filter((o) => (!filter || filter(o.data, o.id)) && (!search || search(o.data)));
  }
  const slice = source.slice(offset, offset + pageSize);
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, opts.contextName, select) };
  // https://learn.microsoft.com/en-us/graph/aad-advanced-queries: @odata.count only with ConsistencyLevel: eventual and
  // $count=true, first page only.
  if (ctx.req.query.get('$count') === 'true' && ctx.req.headers['consistencylevel'] === 'eventual' && offset === 0) {
    body['@odata.count'] = source.length;
  }
  if (offset + pageSize < source.length)
    body['@odata.nextLink'] = nextLink(ctx, encodeToken({ o: offset + pageSize, c: chain }));
  body.value = slice.map((o) => {
    const out = render(o, opts.set, select, { withType: opts.withType });
    return expand ? applyExpand(ctx, o, out, expand) : out;
  });
  return { ...json(200, body), chain };
}

export function listSet(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.read);
  return pageOf(ctx, ctx.tenant.list(set.kind), {
    set,
    contextName: set.contextName,
    defaultTop: set.defaultTop,
    maxTop: set.maxTop,
    paged: set.paged,
    withType: set.kind === 'namedLocation',
    startsWith: ({ prop, prefix }) => ctx.tenant.startsWith.objects(set.kind, prop, prefix),
  });
}

export function getFromSet(ctx: GraphContext, set: EntitySet, id: string): StoredObject {
  const obj =
    ctx.tenant.get(id, set.kind) ??
    (set.kind === 'user' ? ctx.tenant.list('user').find((u) => u.data.userPrincipalName === id) : undefined);
  if (!obj) throw notFound(id);
  return obj;
}

export function getItem(ctx: GraphContext, set: EntitySet, id: string): GraphResponse {
  requireAny(ctx, set.read);
  const obj = getFromSet(ctx, set, id);
  const select = checkSelect(set.kind, parseSelect(ctx.req.query), { collection: false });
  const expand = parseExpand(ctx, set.kind);
  const out = render(obj, set, select, { withType: set.kind === 'namedLocation' });
  return json(200, {
    '@odata.context': contextUrl(ctx, set.contextName, select) + '/$entity',
    ...(expand ? applyExpand(ctx, obj, out, expand) : out),
  });
}

function checkReadOnly(set: EntitySet, body: Json): void {
  for (const p of set.readOnly) {
    if (p in body && !(set.kind === 'domain' && p === 'id')) {
      throw badRequest(`Property '${p}' is read-only and cannot be set.`);
    }
  }
}

function bodyOf(ctx: GraphContext): Json {
  const b = ctx.req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest('Empty Payload. JSON content expected.');
  return { ...(b as Json) };
}

/**
 * POST to a collection: 201 with the created entity (e.g.
 * https://learn.microsoft.com/en-us/graph/api/user-post-users?view=graph-rest-1.0).
 */
export function createInSet(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.write);
  const body = bodyOf(ctx);
  if (set.kind !== 'domain') checkReadOnly(set, body);
  for (const p of set.required ?? []) {
    // The error for a missing required property is unverified
    // (https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/6967); this wording is a choice.
    if (body[p] === undefined || body[p] === null) {
      throw badRequest(`Invalid value specified for property '${p}' of resource '${set.kind}'.`);
    }
  }
  if ('passwordCredentials' in body && set.kind === 'application') {
    // Secrets are added with addPassword
    // (https://learn.microsoft.com/en-us/graph/api/application-addpassword?view=graph-rest-1.0).
    delete body.passwordCredentials;
  }
  const now = ctx.state.clock.iso();
  const binds = takeBinds(body);
  const id = set.kind === 'domain' ? String(body.id) : randomUUID();
  if (ctx.tenant.get(id)) throw badRequest(`Another object with the same value for property id already exists.`);
  if (set.kind === 'user') {
    const upn = String(body.userPrincipalName);
    if (ctx.tenant.list('user').some((u) => String(u.data.userPrincipalName).toLowerCase() === upn.toLowerCase())) {
      throw badRequest('Another object with the same value for property userPrincipalName already exists.');
    }
    delete body.passwordProfile;
    body.createdDateTime = now;
    body.businessPhones ??= [];
  }
  if (set.kind === 'group') {
    body.createdDateTime = now;
    body.groupTypes ??= [];
    body.renewedDateTime = now;
    body.securityIdentifier = `S-1-12-1-${Math.floor(Math.random() * 4e9)}`;
  }
  if (set.kind === 'application') {
    body.appId = randomUUID();
    body.createdDateTime = now;
    body.passwordCredentials = [];
    body.keyCredentials ??= [];
    body.signInAudience ??= 'AzureADMyOrg';
    body.publisherDomain = ctx.tenant.defaultDomain;
  }
  if (set.kind === 'servicePrincipal') {
    const appId = String(body.appId);
    const app = ctx.tenant.list('application').find((a) => a.data.appId === appId);
    const publisherApp = ctx.state.apps.get(appId);
    if (!app && !publisherApp)
      throw badRequest(`The appId '${appId}' of the service principal does not reference a valid application object.`);
    if (findServicePrincipalByAppId(ctx.tenant, appId)) {
      throw badRequest(
        'The service principal cannot be created, updated, or restored because the service principal name is already in use.',
      );
    }
    body.displayName ??= app?.data.displayName ?? publisherApp?.displayName;
    body.appDisplayName = body.displayName;
    body.appOwnerOrganizationId = app ? ctx.tenant.id : ctx.state.publisherTenantId;
    body.servicePrincipalType ??= 'Application';
    body.accountEnabled ??= true;
    body.servicePrincipalNames ??= [appId];
    // A service principal exposes its application's roles and delegated scopes ("appRoles: The roles exposed by the
    // application, which this service principal represents",
    // https://learn.microsoft.com/en-us/graph/api/resources/serviceprincipal?view=graph-rest-1.0): assignments to a
    // re-created app's service principal name those role ids.
    if (app) {
      body.appRoles = structuredClone(app.data.appRoles ?? []);
      body.oauth2PermissionScopes = structuredClone(
        (app.data.api as { oauth2PermissionScopes?: unknown[] } | undefined)?.oauth2PermissionScopes ?? [],
      );
    }
  }
  if (set.kind === 'conditionalAccessPolicy' || set.kind === 'namedLocation') {
    body.createdDateTime = now;
    body.modifiedDateTime = now;
  }
  if (set.kind === 'device') body.registrationDateTime = now;
  const obj = ctx.tenant.insert(set.kind, id, { id, ...body });
  applyBinds(ctx, obj, binds, true);
  recordObjectChange(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, obj, 'Add');
  return json(201, {
    '@odata.context': contextUrl(ctx, set.contextName) + '/$entity',
    ...render(obj, set, undefined),
  });
}

interface Binds {
  members?: string[];
  owners?: string[];
}

function takeBinds(body: Json): Binds {
  const binds: Binds = {};
  for (const rel of ['members', 'owners'] as const) {
    const v = body[`${rel}@odata.bind`];
    if (v !== undefined) {
      if (!Array.isArray(v)) throw badRequest(`Invalid value for '${rel}@odata.bind'.`);
      binds[rel] = v.map((u) => idFromODataId(String(u)));
      delete body[`${rel}@odata.bind`];
    }
  }
  return binds;
}

export function idFromODataId(url: string): string {
  const m = /([0-9a-fA-F-]{36})\/?$/.exec(url.split('?')[0]);
  if (!m) throw badRequest(`Invalid object identifier '${url}'.`);
  return m[1].toLowerCase();
}

function addOwner(owners: Set<string>, id: string): boolean {
  if (owners.has(id)) return false;
  owners.add(id);
  return true;
}

/**
 * members@odata.bind: max 20, all-or-nothing
 * (https://learn.microsoft.com/en-us/graph/api/group-post-members?view=graph-rest-1.0).
 */
function applyBinds(ctx: GraphContext, obj: StoredObject, binds: Binds, creating: boolean): void {
  for (const rel of ['members', 'owners'] as const) {
    const ids = binds[rel];
    if (!ids) continue;
    if (ids.length > 20)
      throw badRequest(`Too many references in '${rel}@odata.bind'; at most 20 are allowed per request.`);
    const set = rel === 'members' ? ctx.tenant.members.get(obj.id) : ctx.tenant.owners.get(obj.id);
    for (const id of ids) {
      if (!ctx.tenant.get(id)) throw notFound(id);
      if (!creating && set?.has(id)) {
        throw badRequest(
          `One or more added object references already exist for the following modified properties: '${rel}'.`,
        );
      }
    }
    for (const id of ids) {
      const added = rel === 'members' ? ctx.tenant.addMember(obj.id, id) : addOwner(ctx.tenant.ownerSet(obj.id), id);
      // Audited like the `$ref` writes: "Add member to group", "Add owner to application"…
      if (added)
        recordRelationChange(
          ctx.tenant,
          ctx.state.clock.isoPrecise(),
          { appId: ctx.appId },
          obj,
          rel,
          ctx.tenant.get(id)!,
          true,
        );
    }
  }
}

/**
 * PATCH: 204, unspecified properties keep their values
 * (https://learn.microsoft.com/en-us/graph/api/user-update?view=graph-rest-1.0).
 */
export function updateInSet(ctx: GraphContext, set: EntitySet, id: string): GraphResponse {
  requireAny(ctx, set.write);
  const obj = getFromSet(ctx, set, id);
  const body = bodyOf(ctx);
  checkReadOnly(set, body);
  if (set.kind === 'application' && 'passwordCredentials' in body) {
    throw badRequest('Using PATCH to update passwordCredentials is not supported. Use addPassword and removePassword.');
  }
  const binds = takeBinds(body);
  applyBinds(ctx, obj, binds, false);
  if (set.kind === 'user') delete body.passwordProfile;
  if (set.kind === 'conditionalAccessPolicy' || set.kind === 'namedLocation')
    body.modifiedDateTime = ctx.state.clock.iso();
  if (Object.keys(body).length) ctx.tenant.update(obj, body);
  recordObjectChange(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, obj, 'Update', Object.keys(body));
  return noContent();
}

export function deleteFromSet(ctx: GraphContext, set: EntitySet, id: string): GraphResponse {
  requireAny(ctx, set.write);
  const obj = getFromSet(ctx, set, id);
  deleteObject(ctx, obj);
  return noContent();
}

export function deleteObject(ctx: GraphContext, obj: StoredObject): void {
  const now = ctx.state.clock.iso();
  ctx.tenant.remove(obj, now);
  recordObjectChange(ctx.tenant, ctx.state.clock.isoPrecise(), { appId: ctx.appId }, obj, 'Delete');
  if (obj.kind === 'application') {
    // The app's service principal goes to the recycle bin with it; restoring the app does not bring it back
    // (https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore?view=graph-rest-1.0).
    const sp = findServicePrincipalByAppId(ctx.tenant, String(obj.data.appId));
    if (sp) ctx.tenant.remove(sp, now);
  }
  if (obj.kind === 'servicePrincipal' || obj.kind === 'appRoleAssignment') ctx.tenant.grantVersion++;
}

export const setOf = (kind: StoredObject['kind']) => SET_BY_KIND.get(kind);
