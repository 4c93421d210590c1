/**
 * Resource-unit (RU) costs of directory requests, estimated before a request is sent so the pacer can charge it up
 * front. Microsoft's table: "Identity and access service limits" in
 * https://learn.microsoft.com/en-us/graph/throttling-limits. The estimate is corrected
 * afterwards with the `x-ms-resource-unit` response header (https://learn.microsoft.com/en-us/graph/throttling-limits),
 * so a wrong guess costs one request's worth of pacing.
 */

/**
 * Base cost of a GET by path shape, ids replaced by `{id}`. Anything else costs 1
 * (https://learn.microsoft.com/en-us/graph/throttling-limits).
 */
const GET_COSTS: ReadonlyArray<[RegExp, number]> = [
  [/^applications$/, 2],
  [/^applications\/\{id\}\/extensionProperties$/, 2],
  [/^contracts$/, 3],
  [/^domains\/\{id\}\/domainNameReferences$/, 4],
  [/^groups\/\{id\}\/members(\/.*)?$/, 3],
  [/^groups\/\{id\}\/transitiveMembers(\/.*)?$/, 5],
  [/^oauth2PermissionGrants(\/\{id\}|\/delta)?$/, 2],
  [/^servicePrincipals\/\{id\}\/appRoleAssignments$/, 2],
  [/^subscribedSkus$/, 3],
  // "GET users 2"; the me/… costs (memberOf, ownedObjects, …) "apply to users/{id|upn}/…" too
  // (https://learn.microsoft.com/en-us/graph/throttling-limits), and the
  // simulator charges every users/… read 2, so the whole users tree is estimated at 2.
  [/^users(\/.*)?$/, 2],
];

/** Path of a Graph URL relative to the version root (`v1.0`/`beta`), and its query. Accepts absolute or relative. */
export function splitGraphUrl(url: string): { path: string; query: URLSearchParams } {
  const parsed = new URL(url, 'https://graph.invalid/');
  let path = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  path = path.replace(/^(v1\.0|beta)(\/|$)/, '');
  return { path, query: parsed.searchParams };
}

/** Replaces key segments (`groups/{guid}/members` → `groups/{id}/members`): every second segment is an id. */
function shape(path: string): string {
  const segments = path.split('/').filter((s) => s.length > 0);
  if (segments[0] === 'me') segments.splice(0, 1, 'users', 'me');
  return segments
    .map((s, i) => (i % 2 === 1 && !s.startsWith('microsoft.graph.') && s !== 'delta' && s !== '$count' ? '{id}' : s))
    .join('/');
}

/**
 * Estimated RU of one request (https://learn.microsoft.com/en-us/graph/throttling-limits): writes 1; GET by table;
 * `$select` −1, `$expand` +1, `$top` < 20 −1; ≥ 1.
 */
export function estimateResourceUnits(method: string, url: string): number {
  if (method.toUpperCase() !== 'GET') return 1;
  const { path, query } = splitGraphUrl(url);
  const s = shape(path);
  let ru = GET_COSTS.find(([re]) => re.test(s))?.[1] ?? 1;
  if (query.has('$select')) ru -= 1;
  if (query.has('$expand')) ru += 1;
  const top = Number(query.get('$top'));
  if (query.has('$top') && Number.isFinite(top) && top < 20) ru -= 1;
  return Math.max(1, ru);
}

interface BatchBody {
  requests?: Array<{ method?: unknown; url?: unknown }>;
}

/**
 * A `$batch` is charged per inner request (https://learn.microsoft.com/en-us/graph/json-batching: "each request
 * evaluated individually"), so its
 * estimate is the sum of its requests' estimates. Unparseable bodies cost 1: Graph will refuse them anyway.
 */
export function estimateBatchResourceUnits(body: unknown): number {
  let parsed: BatchBody | undefined;
  try {
    parsed = (typeof body === 'string' ? JSON.parse(body) : body) as BatchBody | undefined;
  } catch {
    return 1;
  }
  const requests = Array.isArray(parsed?.requests) ? parsed.requests : [];
  const sum = requests.reduce(
    (acc, r) => acc + (typeof r.url === 'string' ? estimateResourceUnits(String(r.method ?? 'GET'), r.url) : 1),
    0,
  );
  return Math.max(1, sum);
}

export function isBatchUrl(url: string): boolean {
  return /(^|\/)\$batch$/.test(splitGraphUrl(url).path);
}

/**
 * `x-ms-resource-unit` (https://learn.microsoft.com/en-us/graph/throttling-limits): positive integer, or undefined when
 * absent or malformed.
 */
export function readResourceUnits(get: (name: string) => string | null | undefined): number | undefined {
  const v = Number(get('x-ms-resource-unit'));
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * `x-ms-throttle-limit-percentage` (https://learn.microsoft.com/en-us/graph/throttling-limits): only sent above 0.8 of
 * the limit, 0.8–1.8.
 */
export function readLimitPercentage(get: (name: string) => string | null | undefined): number | undefined {
  const raw = get('x-ms-throttle-limit-percentage');
  if (raw === null || raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}
