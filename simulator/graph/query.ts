import { GraphContext, badRequest } from './types';

/**
 * Query options Graph recognises; directory endpoints reject them without the `$`
 * (https://github.com/microsoftgraph/microsoft-graph-docs/issues/3879).
 */
const KNOWN_OPTIONS = [
  'select',
  'top',
  'skip',
  'filter',
  'expand',
  'orderby',
  'count',
  'search',
  'skiptoken',
  'deltatoken',
];

export function checkQueryOptions(q: URLSearchParams): void {
  for (const key of q.keys()) {
    if (KNOWN_OPTIONS.includes(key.toLowerCase())) throw badRequest(`Unrecognized query argument specified: '${key}'.`);
  }
  // https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
  if (q.has('$skip')) throw badRequest("'$skip' is not supported by the service.");
}

export function parseSelect(q: URLSearchParams): string[] | undefined {
  const raw = q.get('$select');
  if (raw === null) return undefined;
  const props = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return props.length ? props : undefined;
}

/** $top must be 1..max (https://learn.microsoft.com/en-us/graph/api/group-list-members?view=graph-rest-1.0). */
export function parseTop(q: URLSearchParams, defaultTop: number, maxTop: number): number {
  const raw = q.get('$top');
  if (raw === null) return defaultTop;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > maxTop) {
    throw badRequest(
      `Invalid page size specified: '${raw}'. Must be between 1 and ${maxTop} inclusive.`,
      'Request_UnsupportedQuery',
    );
  }
  return n;
}

/** Skip and delta tokens are opaque to clients: base64url of a small JSON payload. */
export function encodeToken(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeToken<T>(token: string): T | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** nextLink keeps every other query parameter of the request (https://learn.microsoft.com/en-us/graph/paging). */
export function nextLink(ctx: GraphContext, skiptoken: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of ctx.req.query) if (k !== '$skiptoken') params.append(k, v);
  params.set('$skiptoken', skiptoken);
  return `${ctx.root}${ctx.req.path}?${params.toString().replace(/%24/g, '$').replace(/%2C/g, ',')}`;
}

/** A `startswith(prop,'prefix')` filter, the prefix unquoted and lower-cased (the match is case-insensitive). */
export interface StartsWith {
  prop: string;
  prefix: string;
}

/** A parsed `$filter`; a `startswith` one also says what it is, so an index can answer it (store/startswith-index.ts). */
export type Filter = ((data: Record<string, unknown>, id: string) => boolean) & { startsWith?: StartsWith };

/** Minimal $filter: `prop eq 'value'` (optionally or/and-combined is not supported). */
export function parseFilter(q: URLSearchParams): Filter | undefined {
  const raw = q.get('$filter');
  if (raw === null) return undefined;
  const m = /^\s*([A-Za-z][\w/]*)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false|\d+))\s*$/.exec(raw);
  const sw = /^\s*startswith\(\s*([A-Za-z]\w*)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i.exec(raw);
  if (m) {
    const [, prop, str, lit] = m;
    const want: unknown =
      str !== undefined ? str.replace(/''/g, "'") : lit === 'true' ? true : lit === 'false' ? false : Number(lit);
    return (d, id) => (prop === 'id' ? id === want : d[prop] === want);
  }
  if (sw) {
    const [, prop, prefix] = sw;
    const p = prefix.replace(/''/g, "'").toLowerCase();
    const filter: Filter = (d) => typeof d[prop] === 'string' && (d[prop] as string).toLowerCase().startsWith(p);
    filter.startsWith = { prop, prefix: p };
    return filter;
  }
  throw badRequest(`Unsupported or invalid query filter clause specified: '${raw}'.`, 'Request_UnsupportedQuery');
}

/**
 * `$search` on directory objects (https://learn.microsoft.com/en-us/graph/search-query-parameter, "Using $search on
 * directory object collections"): advanced queries only, so `ConsistencyLevel: eventual` is required
 * (https://learn.microsoft.com/en-us/graph/aad-advanced-queries); clauses are quoted `"property:value"` joined by AND / OR. `displayName` and `description` are tokenised (words
 * split at spaces, case changes, symbols and digits; each search token must begin a token of the value), any other
 * string property (mail, userPrincipalName, …) behaves like `startswith`.
 */
export function parseSearch(
  q: URLSearchParams,
  headers: Record<string, string | undefined>,
): ((data: Record<string, unknown>) => boolean) | undefined {
  const raw = q.get('$search');
  if (raw === null) return undefined;
  if (headers['consistencylevel'] !== 'eventual') {
    throw badRequest(
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
      'Request_UnsupportedQuery',
    );
  }
  const invalid = () => badRequest(`Invalid $search query: '${raw}'.`, 'Request_UnsupportedQuery');
  // OR of AND-groups: `"a:x" AND "b:y" OR "c:z"` = (a AND b) OR c.
  const parts = raw.trim().split(/\s+(AND|OR)\s+(?=")/);
  const groups: ((d: Record<string, unknown>) => boolean)[][] = [[]];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 1) {
      if (parts[i] === 'OR') groups.push([]);
      continue;
    }
    const m = /^"([A-Za-z]\w*):([^"]*)"$/.exec(parts[i]);
    if (!m) throw invalid();
    groups[groups.length - 1].push(searchClause(m[1], m[2]));
  }
  return (d) => groups.some((g) => g.every((c) => c(d)));
}

/** Words of a value the way directory search splits them: hello.World42 → hello . world 42. */
export function searchTokens(value: string): string[] {
  return (value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^\sA-Za-z\d]/g) ?? []).map((t) => t.toLowerCase());
}

function searchClause(prop: string, term: string): (d: Record<string, unknown>) => boolean {
  const values = (d: Record<string, unknown>): string[] => {
    const v = d[prop];
    return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  if (prop === 'displayName' || prop === 'description') {
    const want = searchTokens(term);
    return (d) =>
      values(d).some((v) => {
        const have = searchTokens(v);
        return want.length > 0 && want.every((w) => have.some((h) => h.startsWith(w)));
      });
  }
  const prefix = term.toLowerCase();
  return (d) => values(d).some((v) => v.toLowerCase().startsWith(prefix));
}
