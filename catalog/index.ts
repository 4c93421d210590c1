import { OBJECT_TYPES, type ObjectTypeKey } from './object-types';
import type { ExpectedError, GraphPermission, ObjectTypeSpec, RelationshipSpec, SkipReason } from './types';

export * from './types';
export { OBJECT_TYPES, type ObjectTypeKey } from './object-types';

export const GRAPH_V1_BASE_URL = 'https://graph.microsoft.com/v1.0';

export interface UrlOptions {
  /** Graph version root; the simulator passes its own. No trailing slash. */
  baseUrl?: string;
}

const byKey: ReadonlyMap<string, ObjectTypeSpec> = new Map(OBJECT_TYPES.map((t) => [t.key, t]));

export function listObjectTypes(): readonly ObjectTypeSpec[] {
  return OBJECT_TYPES;
}

export function isObjectTypeKey(key: string): key is ObjectTypeKey {
  return byKey.has(key);
}

export function findObjectType(key: string): ObjectTypeSpec | undefined {
  return byKey.get(key);
}

export function getObjectType(key: string): ObjectTypeSpec {
  const spec = byKey.get(key);
  if (!spec) throw new Error(`Unknown object type '${key}'`);
  return spec;
}

export function getRelationship(typeKey: string, relationshipKey: string): RelationshipSpec {
  const rel = getObjectType(typeKey).relationships.find((r) => r.key === relationshipKey);
  if (!rel) throw new Error(`Object type '${typeKey}' has no relationship '${relationshipKey}'`);
  return rel;
}

function sortedUnique(perms: Iterable<GraphPermission>): GraphPermission[] {
  return [...new Set(perms)].sort();
}

function pick(keys?: readonly string[]): readonly ObjectTypeSpec[] {
  return keys ? keys.map(getObjectType) : OBJECT_TYPES;
}

/**
 * Application permissions the Backup app needs to read the given types (default: all) and their relationships, and
 * the directory audit log where a type's relationships are kept current from it between full reads (without it a
 * backup still completes, reading those relationships in full: see `auditTrackedRelationships`).
 */
export function requiredReadPermissions(typeKeys?: readonly string[]): GraphPermission[] {
  return sortedUnique(
    pick(typeKeys).flatMap((t) => [
      t.permissions.read,
      ...t.relationships.map((r) => r.readPermission),
      ...(auditTrackedRelationships(t).length > 0 ? [AUDIT_LOG_PERMISSION] : []),
    ]),
  );
}

/** Reading /auditLogs/directoryAudits app-only takes AuditLog.Read.All and Directory.Read.All (directoryaudit-list). */
export const AUDIT_LOG_PERMISSION: GraphPermission = 'AuditLog.Read.All';

/**
 * Relationships of a delta type whose changes delta does not report (everything but `delta.tracks`, e.g. group
 * owners, application owners, app-role assignments, federated identity credentials): between full reads they are
 * re-read for the objects the directory audit log names. Types without delta are read in full every time.
 */
export function auditTrackedRelationships(spec: ObjectTypeSpec): readonly RelationshipSpec[] {
  if (!spec.delta) return [];
  const tracked = new Set(spec.delta.tracks ?? []);
  return spec.relationships.filter((r) => !tracked.has(r.key));
}

/**
 * Activity names as compared: records spell some with an en dash and a trailing space ("Update application –
 * Certificates and secrets management "), exports append a period. Lower case, hyphens, no trailing space or period.
 */
export function normalizeActivityName(name: string): string {
  return name
    .replace(/[\u2012-\u2015]/g, '-')
    .replace(/[\s.]+$/, '')
    .toLowerCase();
}

/** True when an audit record's `activityDisplayName` is one of the relationship's `auditActivities` (by prefix). */
export function auditActivityMatches(rel: RelationshipSpec, activityDisplayName: string): boolean {
  const actual = normalizeActivityName(activityDisplayName);
  return (rel.auditActivities ?? []).some((a) => actual.startsWith(normalizeActivityName(a)));
}

/** Application permissions the Restore app needs to write the given types (default: all) and their relationships. */
export function requiredWritePermissions(typeKeys?: readonly string[]): GraphPermission[] {
  return sortedUnique(
    pick(typeKeys).flatMap((t) => [...t.permissions.write, ...t.relationships.flatMap((r) => r.writePermissions)]),
  );
}

function withQuery(url: string, select: readonly string[] | null, top: number | null): string {
  // Graph documents `$select=a,b` unencoded; property names are plain identifiers, so no encoding is needed.
  const parts: string[] = [];
  if (select && select.length > 0) parts.push(`$select=${select.join(',')}`);
  if (top !== null) parts.push(`$top=${top}`);
  return parts.length > 0 ? `${url}?${parts.join('&')}` : url;
}

/** URL of the first page of a full read of the type. Later pages come from `@odata.nextLink`, used as is. */
export function firstPageUrl(typeKey: string, options: UrlOptions = {}): string {
  const spec = getObjectType(typeKey);
  const base = options.baseUrl ?? GRAPH_V1_BASE_URL;
  return withQuery(base + spec.path, spec.select, spec.singleton ? null : spec.pageSize);
}

/**
 * URL that starts a delta round. Graph bakes these parameters into the next and delta links; `$top` is refused by
 * delta, and relationships listed in `tracks` are added to `$select` so membership changes come back as `members@delta`.
 */
export function deltaStartUrl(typeKey: string, options: UrlOptions = {}): string {
  const spec = getObjectType(typeKey);
  if (!spec.delta) throw new Error(`Object type '${typeKey}' does not support delta`);
  const base = options.baseUrl ?? GRAPH_V1_BASE_URL;
  const select = spec.select ? [...spec.select, ...(spec.delta.tracks ?? [])] : null;
  return withQuery(base + spec.delta.path, select, null);
}

/** URL of the first page of one parent's relationship, e.g. the members of one group. */
export function relationshipUrl(
  typeKey: string,
  relationshipKey: string,
  parentId: string,
  options: UrlOptions = {},
): string {
  const rel = getRelationship(typeKey, relationshipKey);
  const base = options.baseUrl ?? GRAPH_V1_BASE_URL;
  const path = rel.path.replace('{id}', encodeURIComponent(parentId));
  return withQuery(base + path, rel.select, rel.pageSize);
}

/**
 * Types in the order a restore creates their objects: every type after the types it depends on, table order
 * otherwise. Relationships are written in a second pass once every object exists, so they add no ordering.
 */
export function restoreOrder(types: readonly ObjectTypeSpec[] = OBJECT_TYPES): string[] {
  const keys = new Set(types.map((t) => t.key));
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < types.length) {
    const next = types.find((t) => !done.has(t.key) && t.restore.dependsOn.every((d) => done.has(d) || !keys.has(d)));
    if (!next) {
      const stuck = types.filter((t) => !done.has(t.key)).map((t) => t.key);
      throw new Error(`Restore dependencies form a cycle among: ${stuck.join(', ')}`);
    }
    done.add(next.key);
    order.push(next.key);
  }
  return order;
}

export interface GraphErrorLike {
  status: number;
  code?: string;
  message?: string;
}

function matches(expected: ExpectedError, error: GraphErrorLike): boolean {
  if (expected.status !== error.status) return false;
  if (expected.code !== undefined && expected.code !== error.code) return false;
  if (
    expected.messageIncludes !== undefined &&
    !(error.message ?? '').toLowerCase().includes(expected.messageIncludes)
  ) {
    return false;
  }
  return true;
}

/**
 * Classifies a failed read of a type: an expected "not licensed" answer, a missing permission
 * (403 Authorization_RequestDenied) or, for anything else, undefined (a real error the caller reports or retries).
 */
export function classifyReadError(typeKey: string, error: GraphErrorLike): SkipReason | undefined {
  const expected = getObjectType(typeKey).expectedErrors.find((e) => matches(e, error));
  if (expected) return expected.reason;
  if (error.status === 403 && error.code === 'Authorization_RequestDenied') return 'permission-missing';
  return undefined;
}
export {
  ignoredInDiff,
  searchProperties,
  unorderedArrays,
  SEARCH_PROPERTIES,
  STATE_PROPERTIES,
  UNORDERED_ARRAYS,
} from './comparison';
