import { randomUUID } from 'node:crypto';
import { EntitySet, KIND_TYPE } from './entity-sets';
import { GraphContext, GraphResponse, GraphError, badRequest, json } from './types';
import { decodeToken, encodeToken, parseSelect } from './query';
import { checkSelect } from './properties';
import { requireAny, contextUrl } from './collections';
import { render } from './render';
import { DeltaEmission, DeltaRound } from './delta-rounds';
import { EntityKind, StoredObject } from '../store/types';

/**
 * Delta query: https://learn.microsoft.com/en-us/graph/delta-query-overview
 * A round is frozen when its first page is asked for: the ids changed in (fromSeq, toSeq] are listed once and paged
 * with $skiptoken; the last page carries a deltaLink for toSeq. Rounds live in the simulator instance
 * (`state.deltaRounds`), never in module state.
 *
 * `$select` scopes change tracking (https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0): "If a
 * $select query parameter is used, the parameter indicates that the
 * client prefers to only track changes on the properties or relationships specified in the $select statement. If a
 * change occurs to a property that isn't selected, the resource for which that property changed doesn't appear in the
 * delta response after a subsequent request." Without `$select` every property is tracked ("If $select isn't
 * specified, all properties of the object are tracked for changes",
 * https://learn.microsoft.com/en-us/graph/delta-query-users)
 * and the default property set is returned (users: the 11 default properties; groups: all properties and
 * members@delta, https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0).
 * `Prefer: return=minimal` (sent on each request of the round): changed objects carry only the properties that
 * changed since the previous round, removed ones as null
 * (https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0).
 * Not modelled: `$select=manager` on users, `$filter=id eq`.
 */
const DELTA_TOKEN_LIFETIME_MS = 7 * 86400_000;
const MEMBER_SLICE = 1000;
/** Relationships that may be named in a delta $select; they are tracked, not rendered as properties. */
const RELATIONSHIPS = new Set(['members', 'owners', 'manager']);

interface DeltaToken {
  /** entity set path */
  s: string;
  /** tenant id */
  d?: string;
  /** change sequence the round ended at */
  q: number;
  /** simulated time the token was issued */
  t: number;
  sel?: string[];
}

export function delta(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.read);
  const q = ctx.req.query;
  // https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0: $orderby is not supported on delta;
  // $expand and $top not on users/groups/other directory objects
  // (applications and servicePrincipals accept them; they are ignored here).
  // https://learn.microsoft.com/en-us/graph/delta-query-overview#query-parameters
  if (q.has('$orderby')) {
    throw badRequest(`The query parameter '$orderby' is not supported with delta.`, 'Request_UnsupportedQuery');
  }
  for (const opt of ['$expand', '$top']) {
    if (q.has(opt) && set.kind !== 'servicePrincipal' && set.kind !== 'application') {
      throw badRequest(`The query parameter '${opt}' is not supported with delta.`, 'Request_UnsupportedQuery');
    }
  }
  const base = `${ctx.root}/${set.path}/delta`;
  const tenant = ctx.tenant;
  const now = ctx.state.clock.now();
  tenant.purgeExpired(now);
  const rounds = ctx.state.deltaRounds;
  const skip = q.get('$skiptoken');
  const deltaTokenRaw = q.get('$deltatoken') ?? q.get('$deltaToken');
  let round: DeltaRound | undefined;
  let offset = 0;
  let roundId: string;
  if (skip) {
    const t = decodeToken<{ r: string; o: number }>(skip);
    round = t ? rounds.get(t.r) : undefined;
    if (!t || !round || round.tenantId !== tenant.id || round.setPath !== set.path) throw expired(base);
    roundId = t.r;
    offset = t.o;
  } else {
    const select = checkSelect(set.kind, parseSelect(q), { collection: true, extra: RELATIONSHIPS });
    if (deltaTokenRaw === 'latest') {
      // https://learn.microsoft.com/en-us/graph/delta-query-overview: deltaLink and no resource data.
      const token: DeltaToken = { s: set.path, d: tenant.id, q: tenant.seq, t: now, sel: select };
      return json(200, {
        '@odata.context': contextUrl(ctx, set.contextName, select),
        '@odata.deltaLink': `${base}?$deltatoken=${encodeToken({ ...token })}`,
        value: [],
      });
    }
    let fromSeq = 0;
    let sel = select;
    if (deltaTokenRaw !== null) {
      const t = decodeToken<DeltaToken>(deltaTokenRaw);
      if (!t || t.s !== set.path) throw badRequest('The delta token is malformed.', 'Request_BadRequest');
      // https://learn.microsoft.com/en-us/graph/delta-query-overview: seven days for directory objects; 410 with a
      // Location to restart from scratch. A token issued in
      // another tenant (or by another simulator) names no sync state here: also 410 (choice; unverified).
      if (
        (t.d !== undefined && t.d !== tenant.id) ||
        now - t.t > DELTA_TOKEN_LIFETIME_MS ||
        t.t < tenant.deltaTokensNotBefore
      )
        throw expired(base);
      fromSeq = t.q;
      sel = t.sel;
    }
    round = buildRound(ctx, set, fromSeq, sel);
    roundId = randomUUID();
    rounds.add(roundId, round, now);
  }
  // Graph's delta pages of users and groups hold about 200 objects whatever is asked, groups' often far fewer
  // (https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/1157); the field model sets both.
  const pageSize = ctx.state.faults.deltaPageSize(set.path, `${round.fromSeq}-${round.toSeq}`, offset);
  const page = round.emissions.slice(offset, offset + pageSize);
  const value = page.map((e) => renderEmission(ctx, set, round as DeltaRound, e));
  const body: Record<string, unknown> = {
    // https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list?view=graph-rest-1.0: the first page names
    // the $select, later ones do not.
    '@odata.context': contextUrl(ctx, set.contextName, offset === 0 ? round.select : undefined),
  };
  if (offset + pageSize < round.emissions.length) {
    body['@odata.nextLink'] = `${base}?$skiptoken=${encodeToken({ r: roundId, o: offset + pageSize })}`;
  } else {
    const token: DeltaToken = { s: set.path, d: tenant.id, q: round.toSeq, t: now, sel: round.select };
    body['@odata.deltaLink'] = `${base}?$deltatoken=${encodeToken({ ...token })}`;
    // The round stays until it ages out: a client that crashed after reading on may ask for an earlier page again,
    // as Graph's state tokens allow (choice; Microsoft does not document how long a skiptoken stays valid).
  }
  body.value = value;
  return { ...json(200, body), chain: roundId };
}

function expired(base: string): GraphError {
  // Exact code for directory objects is unverified (https://learn.microsoft.com/en-us/graph/delta-query-overview);
  // syncStateNotFound from the generic error list (https://learn.microsoft.com/en-us/graph/errors).
  return new GraphError(410, 'syncStateNotFound', 'The delta token is expired and data must be synchronized again.', {
    Location: `${base}?$deltatoken=`,
  });
}

/** Did anything the round tracks change after fromSeq (membership is checked separately)? */
function trackedChange(obj: StoredObject, fromSeq: number, select: string[] | undefined): boolean {
  if (obj.seq <= fromSeq) return false;
  if (!select) return true;
  // Created or restored since the last round: reported whatever was selected.
  if ((obj.baseSeq ?? 0) > fromSeq) return true;
  return select.some((p) => p !== 'members' && (obj.propSeq?.[p] ?? 0) > fromSeq);
}

function buildRound(ctx: GraphContext, set: EntitySet, fromSeq: number, select?: string[]): DeltaRound {
  const tenant = ctx.tenant;
  const toSeq = tenant.seq;
  const emissions: DeltaEmission[] = [];
  // https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0,
  // https://learn.microsoft.com/en-us/graph/delta-query-groups: members@delta by default, or when $select names
  // members.
  const trackMembers = set.kind === 'group' && (!select || select.includes('members'));
  for (const obj of tenant.list(set.kind)) {
    if (obj.seq <= fromSeq) continue;
    const changed = fromSeq === 0 || trackedChange(obj, fromSeq, select);
    if (!trackMembers) {
      if (changed) emissions.push({ id: obj.id });
      continue;
    }
    let members: { id: string; removed: boolean; kind?: EntityKind }[];
    if (fromSeq === 0) {
      members = [...(tenant.members.get(obj.id) ?? [])].map((id) => ({ id, removed: false }));
    } else {
      const last = new Map<string, { removed: boolean; kind?: EntityKind }>();
      for (const c of tenant.memberLog.get(obj.id) ?? [])
        if (c.seq > fromSeq && c.seq <= toSeq) last.set(c.id, { removed: c.removed, kind: c.kind });
      members = [...last].map(([id, m]) => ({ id, ...m }));
    }
    // A group whose membership changed appears even when no selected property changed.
    if (!changed && members.length === 0) continue;
    if (members.length <= MEMBER_SLICE) emissions.push({ id: obj.id, members });
    // https://learn.microsoft.com/en-us/graph/delta-query-groups: a large group comes back on several entries, each
    // with a slice of members@delta.
    else
      for (let i = 0; i < members.length; i += MEMBER_SLICE)
        emissions.push({ id: obj.id, members: members.slice(i, i + MEMBER_SLICE) });
  }
  if (fromSeq > 0) {
    for (const t of tenant.tombstones.values()) {
      if (t.kind === set.kind && t.seq > fromSeq && t.seq <= toSeq) emissions.push({ id: t.id, removed: t.reason });
    }
  }
  return {
    tenantId: tenant.id,
    setPath: set.path,
    fromSeq,
    toSeq,
    select,
    emissions,
    createdAt: ctx.state.clock.now(),
  };
}

function renderEmission(
  ctx: GraphContext,
  set: EntitySet,
  round: DeltaRound,
  e: DeltaEmission,
): Record<string, unknown> {
  const live = ctx.tenant.get(e.id, set.kind);
  if (e.removed || !live) {
    const reason = e.removed ?? (ctx.tenant.recycleBin.has(e.id) ? 'changed' : 'deleted');
    return { id: e.id, '@removed': { reason } };
  }
  let props = round.select?.filter((p) => !RELATIONSHIPS.has(p));
  const minimal = /return=minimal/i.test(ctx.req.headers['prefer'] ?? '');
  if (minimal && round.fromSeq > 0 && (live.baseSeq ?? 0) <= round.fromSeq) {
    // https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0: "with Prefer: return=minimal only
    // changed properties" — a removed value is sent as null.
    const changed = Object.entries(live.propSeq ?? {})
      .filter(([p, seq]) => seq > round.fromSeq && !RELATIONSHIPS.has(p))
      .map(([p]) => p);
    props = (props ?? changed).filter((p) => changed.includes(p));
    const out: Record<string, unknown> = { id: live.id };
    for (const p of props) out[p] = render(live, set, [p])[p] ?? null;
    return withMembers(ctx, out, e);
  }
  const out = render(live, set, props);
  out.id = live.id;
  // https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0: selected (or default) properties with
  // their current values; properties never set are omitted.
  for (const [k, v] of Object.entries(out)) if (v === null && live.data[k] === undefined && k !== 'id') delete out[k];
  return withMembers(ctx, out, e);
}

function withMembers(ctx: GraphContext, out: Record<string, unknown>, e: DeltaEmission): Record<string, unknown> {
  if (e.members && e.members.length) {
    out['members@delta'] = e.members.map((m) => {
      const kind = (m.kind as EntityKind | undefined) ?? ctx.tenant.getAny(m.id)?.kind ?? 'user';
      return { '@odata.type': KIND_TYPE[kind], id: m.id, ...(m.removed ? { '@removed': { reason: 'deleted' } } : {}) };
    });
  }
  return out;
}
