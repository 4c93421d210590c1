import { randomUUID } from 'node:crypto';
import { EntitySet, PAGED } from './entity-sets';
import { GraphContext, GraphResponse, badRequest, json, noContent, notFound } from './types';
import { contextUrl, getFromSet, pageOf, requireAny } from './collections';
import { methodNotAllowed } from './relations';
import { render } from './render';
import { recordApplicationUpdate } from './audit-log';

/**
 * /applications/{id}/federatedIdentityCredentials[/{id or name}]: list, get, create (201), update (204), delete (204);
 * at most 20 per application; `name`, `issuer`, `subject`, `audiences` required on create.
 * https://learn.microsoft.com/en-us/graph/api/application-list-federatedidentitycredentials?view=graph-rest-1.0
 * https://learn.microsoft.com/en-us/graph/api/application-post-federatedidentitycredentials?view=graph-rest-1.0
 */
const MAX_PER_APP = 20;
const REQUIRED = ['name', 'issuer', 'subject', 'audiences'];

export function federatedIdentityCredentials(
  ctx: GraphContext,
  set: EntitySet,
  appId: string,
  key?: string,
): GraphResponse {
  const { method } = ctx.req;
  requireAny(ctx, method === 'GET' ? set.read : set.write);
  const app = getFromSet(ctx, set, appId);
  const list = ctx.tenant.federatedIdentityCredentials.get(app.id) ?? [];
  const contextName = `applications('${app.id}')/federatedIdentityCredentials`;
  const entity = (cred: (typeof list)[number]) => ({
    '@odata.context': `${contextUrl(ctx, contextName)}/$entity`,
    ...render(cred, undefined, undefined),
  });
  /** Every change is a change of the application: its delta and the directory audit log show it. */
  const changed = () => {
    ctx.tenant.touch(app.id, 'federatedIdentityCredentials');
    recordApplicationUpdate(
      ctx.tenant,
      ctx.state.clock.isoPrecise(),
      { appId: ctx.appId },
      app,
      'FederatedIdentityCredentials',
    );
  };
  if (key === undefined && method === 'GET') {
    return pageOf(ctx, list, {
      kind: 'federatedIdentityCredential',
      contextName,
      ...PAGED,
    });
  }
  if (key === undefined && method === 'POST') {
    const body = (ctx.req.body ?? {}) as Record<string, unknown>;
    for (const p of REQUIRED) {
      if (body[p] === undefined || body[p] === null)
        throw badRequest(`Invalid value specified for property '${p}' of resource 'federatedIdentityCredential'.`);
    }
    if (list.length >= MAX_PER_APP)
      throw badRequest('Maximum number of federated identity credentials per application reached.');
    if (list.some((c) => c.data.name === body.name))
      throw badRequest('FederatedIdentityCredential with name ' + String(body.name) + ' already exists.');
    const id = randomUUID();
    const data: Record<string, unknown> = { description: null, ...body, id };
    const obj = { id, kind: 'federatedIdentityCredential' as const, data, seq: ++ctx.tenant.seq };
    ctx.tenant.federatedIdentityCredentials.set(app.id, [...list, obj]);
    changed();
    return json(201, entity(obj));
  }
  const cred = list.find((c) => c.id === key || c.data.name === key);
  if (!cred) throw notFound(key ?? '');
  if (method === 'GET') {
    return json(200, entity(cred));
  }
  if (method === 'PATCH') {
    const body = (ctx.req.body ?? {}) as Record<string, unknown>;
    if ('id' in body || 'name' in body) throw badRequest("Property 'name' is read-only and cannot be set.");
    Object.assign(cred.data, body);
    changed();
    return noContent();
  }
  if (method === 'DELETE') {
    ctx.tenant.federatedIdentityCredentials.set(
      app.id,
      list.filter((c) => c !== cred),
    );
    changed();
    return noContent();
  }
  throw methodNotAllowed();
}
