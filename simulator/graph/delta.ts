import { randomUUID } from 'node:crypto';
import { EntitySet, KIND_TYPE } from './entity-sets';
import { GraphContext, GraphResponse, GraphError, badRequest, json } from './types';
import { decodeToken, encodeToken, parseSelect } from './query';
import { requireAny, contextUrl } from './collections';
import { render } from './render';

/**
 * Delta query (graph-behaviour §5): https://learn.microsoft.com/en-us/graph/delta-query-overview
 * A round is frozen when its first page is asked for: the ids changed in (fromSeq, toSeq] are listed once and paged
 * with $skiptoken; the last page carries a deltaLink for toSeq. Not modelled: $select-scoped change tracking (any
 * change makes the object reappear) and Prefer: return=minimal.
 */
const DELTA_TOKEN_LIFETIME_MS = 7 * 86400_000;
const PAGE_SIZE = 200;
const MEMBER_SLICE = 1000;

interface Emission {
  id: string;
  removed?: 'changed' | 'deleted';
  members?: { id: string; removed: boolean }[];
}

interface Round {
  setPath: string;
  toSeq: number;
  select?: string[];
  emissions: Emission[];
  createdAt: number;
}

interface DeltaToken {
  s: string;
  q: number;
  t: number;
  sel?: string[];
}

const rounds = new Map<string, Round>();

export function delta(ctx: GraphContext, set: EntitySet): GraphResponse {
  requireAny(ctx, set.read);
  const q = ctx.req.query;
  for (const opt of ['$expand', '$top', '$orderby']) {
    if (q.has(opt) && set.kind !== 'servicePrincipal' && set.kind !== 'application') {
      throw badRequest(`The query parameter '${opt}' is not supported with delta.`, 'Request_UnsupportedQuery');
    }
  }
  const base = `${ctx.root}/${set.path}/delta`;
  const tenant = ctx.tenant;
  const skip = q.get('$skiptoken');
  const deltaTokenRaw = q.get('$deltatoken') ?? q.get('$deltaToken');
  let round: Round | undefined;
  let offset = 0;
  let roundId: string;
  if (skip) {
    const t = decodeToken<{ r: string; o: number }>(skip);
    round = t ? rounds.get(t.r) : undefined;
    if (!t || !round) throw expired(base);
    roundId = t.r;
    offset = t.o;
  } else {
    const select = parseSelect(q);
    if (deltaTokenRaw === 'latest') {
      // 5.10: deltaLink and no resource data.
      const token: DeltaToken = { s: set.path, q: tenant.seq, t: ctx.state.clock.now(), sel: select };
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
      // 5.13/5.14: seven days for directory objects; 410 with a Location to restart from scratch.
      if (ctx.state.clock.now() - t.t > DELTA_TOKEN_LIFETIME_MS || t.t < tenant.deltaTokensNotBefore)
        throw expired(base);
      fromSeq = t.q;
      sel = t.sel;
    }
    round = buildRound(ctx, set, fromSeq, sel);
    roundId = randomUUID();
    rounds.set(roundId, round);
    pruneRounds(ctx.state.clock.now());
  }
  const page = round.emissions.slice(offset, offset + PAGE_SIZE);
  const value = page.map((e) => renderEmission(ctx, set, round as Round, e));
  const body: Record<string, unknown> = {
    // 3.9: the first page names the $select, later ones do not.
    '@odata.context': contextUrl(ctx, set.contextName, offset === 0 ? round.select : undefined),
  };
  if (offset + PAGE_SIZE < round.emissions.length) {
    body['@odata.nextLink'] = `${base}?$skiptoken=${encodeToken({ r: roundId, o: offset + PAGE_SIZE })}`;
  } else {
    const token: DeltaToken = { s: set.path, q: round.toSeq, t: ctx.state.clock.now(), sel: round.select };
    body['@odata.deltaLink'] = `${base}?$deltatoken=${encodeToken({ ...token })}`;
    rounds.delete(roundId);
  }
  body.value = value;
  return json(200, body);
}

function expired(base: string): GraphError {
  // Exact code for directory objects is unverified (5.14); syncStateNotFound from the generic error list (4.12).
  return new GraphError(410, 'syncStateNotFound', 'The delta token is expired and data must be synchronized again.', {
    Location: `${base}?$deltatoken=`,
  });
}

function pruneRounds(now: number): void {
  for (const [id, r] of rounds) if (now - r.createdAt > 3600_000) rounds.delete(id);
}

function buildRound(ctx: GraphContext, set: EntitySet, fromSeq: number, select?: string[]): Round {
  const tenant = ctx.tenant;
  const toSeq = tenant.seq;
  const emissions: Emission[] = [];
  const trackMembers = set.kind === 'group' && (!select || select.includes('members'));
  for (const obj of tenant.list(set.kind)) {
    if (obj.seq <= fromSeq) continue;
    if (!trackMembers) {
      emissions.push({ id: obj.id });
      continue;
    }
    let members: { id: string; removed: boolean }[];
    if (fromSeq === 0) {
      members = [...(tenant.members.get(obj.id) ?? [])].map((id) => ({ id, removed: false }));
    } else {
      const last = new Map<string, boolean>();
      for (const c of tenant.memberLog.get(obj.id) ?? [])
        if (c.seq > fromSeq && c.seq <= toSeq) last.set(c.id, c.removed);
      members = [...last].map(([id, removed]) => ({ id, removed }));
    }
    if (members.length <= MEMBER_SLICE) emissions.push({ id: obj.id, members });
    // 5.12: a large group comes back on several entries, each with a slice of members@delta.
    else
      for (let i = 0; i < members.length; i += MEMBER_SLICE)
        emissions.push({ id: obj.id, members: members.slice(i, i + MEMBER_SLICE) });
  }
  if (fromSeq > 0) {
    for (const t of tenant.tombstones.values()) {
      if (t.kind === set.kind && t.seq > fromSeq && t.seq <= toSeq) emissions.push({ id: t.id, removed: t.reason });
    }
  }
  return { setPath: set.path, toSeq, select, emissions, createdAt: ctx.state.clock.now() };
}

function renderEmission(ctx: GraphContext, set: EntitySet, round: Round, e: Emission): Record<string, unknown> {
  const live = ctx.tenant.get(e.id, set.kind);
  if (e.removed || !live) {
    const reason = e.removed ?? (ctx.tenant.recycleBin.has(e.id) ? 'changed' : 'deleted');
    return { id: e.id, '@removed': { reason } };
  }
  const out = render(live, set, round.select);
  if (round.select && !round.select.includes('id')) out.id = live.id;
  if (e.members && e.members.length) {
    out['members@delta'] = e.members.map((m) => {
      const kind = ctx.tenant.getAny(m.id)?.kind ?? 'user';
      return { '@odata.type': KIND_TYPE[kind], id: m.id, ...(m.removed ? { '@removed': { reason: 'deleted' } } : {}) };
    });
  }
  return out;
}
