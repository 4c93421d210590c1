import { EntityKind, StoredObject } from '../store/types';
import { KIND_TYPE, SET_BY_KIND } from './entity-sets';
import { GraphContext, badRequest } from './types';
import { render } from './render';

/**
 * `$expand` on directory objects (https://learn.microsoft.com/en-us/graph/query-parameters): "typically returns a
 * maximum of 20 items for the expanded
 * relationship and has no @odata.nextLink"; not supported together with advanced queries.
 * https://learn.microsoft.com/en-us/graph/query-parameters#expand-parameter
 * Resource-unit cost +1 is charged by throttling/cost.ts (https://learn.microsoft.com/en-us/graph/throttling-limits).
 */
export const EXPAND_LIMIT = 20;

type Relationship = 'members' | 'owners';

/** Relationships that can be expanded, per kind. */
const EXPANDABLE: Partial<Record<EntityKind, Relationship[]>> = {
  group: ['members', 'owners'],
  application: ['owners'],
  servicePrincipal: ['owners'],
  administrativeUnit: ['members'],
  directoryRole: ['members'],
};

export interface ExpandSpec {
  rel: Relationship;
  select?: string[];
}

function splitTopLevel(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Parses `$expand=members,owners($select=id,displayName)` for a kind; undefined when absent. */
export function parseExpand(ctx: GraphContext, kind: EntityKind): ExpandSpec[] | undefined {
  const raw = ctx.req.query.get('$expand');
  if (raw === null) return undefined;
  const q = ctx.req.query;
  if (ctx.req.headers['consistencylevel'] === 'eventual' && (q.get('$count') === 'true' || q.has('$search'))) {
    throw badRequest('$expand is not supported with advanced queries.', 'Request_UnsupportedQuery');
  }
  const specs: ExpandSpec[] = [];
  for (const item of splitTopLevel(raw)) {
    const m = /^([A-Za-z]+)(?:\((.*)\))?$/.exec(item);
    const rel = m?.[1];
    if (!m || !rel || !(EXPANDABLE[kind] ?? []).includes(rel as Relationship)) {
      throw badRequest(`Could not find a property named '${rel ?? item}' on type 'microsoft.graph.${kind}'.`);
    }
    let select: string[] | undefined;
    for (const opt of m[2] ? m[2].split(';') : []) {
      const [k, v] = opt.split('=');
      if (k.trim().toLowerCase() !== '$select' || v === undefined) {
        throw badRequest(
          `Query option '${k.trim()}' is not supported inside $expand on this resource.`,
          'Request_UnsupportedQuery',
        );
      }
      select = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    specs.push({ rel: rel as Relationship, select });
  }
  return specs;
}

/** Adds each expanded relationship to a rendered object: at most 20 directoryObjects, no nextLink. */
export function applyExpand(
  ctx: GraphContext,
  obj: StoredObject,
  out: Record<string, unknown>,
  specs: ExpandSpec[],
): Record<string, unknown> {
  for (const spec of specs) {
    const ids = (spec.rel === 'members' ? ctx.tenant.members : ctx.tenant.owners).get(obj.id) ?? [];
    const items: Record<string, unknown>[] = [];
    for (const id of ids) {
      if (items.length >= EXPAND_LIMIT) break;
      const o = ctx.tenant.index.get(id);
      if (!o) continue;
      items.push({ '@odata.type': KIND_TYPE[o.kind], ...render(o, SET_BY_KIND.get(o.kind), spec.select) });
    }
    out[spec.rel] = items;
  }
  return out;
}
