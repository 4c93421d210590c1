import { getObjectType } from '../../catalog';
import { canonicalJson, sha256Hex } from '../../storage/canonical-json';
import type { Repository } from '../../storage/repository';
import type { ManifestEntry } from '../../storage/manifest';
import { attributeChanges, conditionalAccessReferences, naturalKey, secretsOf } from '../../restore/compare';
import {
  RESTORABLE_TYPES,
  type FederatedCredential,
  type PlanCounts,
  type PlannedRoleAssignment,
  type PlannedScopedRoleMember,
  type PlannedAssignment,
  type PlannedGrant,
  type PlannedMembership,
  type PlannedObject,
  type RelationshipChange,
  type RestorePlan,
  type RestoreTarget,
} from '../../restore/types';
import type { RestoreGraph } from './restore-graph';

/** What a restore found for one target in the snapshot: the captured object and its add-ref relationships. */
export interface CapturedObject {
  type: string;
  id: string;
  displayName: string | null;
  object: Record<string, unknown>;
  relationships: Record<string, string[]>;
  /** Applications: their federated identity credentials as captured. */
  credentials?: FederatedCredential[];
}

export class UnknownObjectError extends Error {}

/** Restorable relationships of a type: the ones written back with $ref (members, owners). */
export function refRelationships(type: string): string[] {
  return getObjectType(type)
    .relationships.filter((r) => r.restore === 'add-ref')
    .map((r) => r.key);
}

export async function readCaptured(
  repo: Repository,
  snapshotId: string,
  targets: readonly RestoreTarget[],
): Promise<CapturedObject[]> {
  const entriesByType = new Map<string, Map<string, ManifestEntry>>();
  const out: CapturedObject[] = [];
  for (const t of targets) {
    if (!RESTORABLE_TYPES.includes(t.type)) throw new UnknownObjectError(`type '${t.type}' is not restorable`);
    let entries = entriesByType.get(t.type);
    if (!entries) {
      entries = new Map((await repo.listEntries(snapshotId, t.type)).map((e) => [e.id, e]));
      entriesByType.set(t.type, entries);
    }
    const entry = entries.get(t.id);
    if (!entry) throw new UnknownObjectError(`${t.type} '${t.id}' is not in snapshot ${snapshotId}`);
    const relationships: Record<string, string[]> = {};
    for (const rel of refRelationships(t.type)) {
      const hash = entry.rels?.[rel];
      relationships[rel] = hash ? (await repo.readRelationship(hash)).map((i) => i.id).sort() : [];
    }
    const credentialsHash = t.type === 'applications' ? entry.rels?.federatedIdentityCredentials : undefined;
    out.push({
      type: t.type,
      id: t.id,
      displayName: entry.displayName,
      object: await repo.readObject<Record<string, unknown>>(entry.contentHash),
      relationships,
      ...(credentialsHash ? { credentials: (await repo.readRelationship(credentialsHash)).map(credentialOf) } : {}),
    });
  }
  return out;
}

/** The writable properties of a federated identity credential (id is server-assigned, name is its key). */
export function credentialOf(c: Record<string, unknown>): FederatedCredential {
  return {
    name: String(c.name ?? ''),
    issuer: String(c.issuer ?? ''),
    subject: String(c.subject ?? ''),
    audiences: Array.isArray(c.audiences) ? (c.audiences as unknown[]).map(String) : [],
    description: typeof c.description === 'string' ? c.description : null,
  };
}

export function sameCredential(a: FederatedCredential, b: FederatedCredential): boolean {
  const key = (c: FederatedCredential) =>
    JSON.stringify([c.name, c.issuer, c.subject, [...c.audiences].sort(), c.description ?? null]);
  return key(a) === key(b);
}

/** A group or administrative unit of the snapshot whose captured members include requested objects. */
export interface CapturedMembership {
  type: 'groups' | 'administrativeUnits';
  id: string;
  displayName: string | null;
  /** Requested objects among its captured members. */
  members: string[];
}

/** An app-role assignment as captured on its resource's appRoleAssignedTo (or its principal's appRoleAssignments). */
export type CapturedAssignment = PlannedAssignment;

/** A delegated permission grant as captured (its own object type in the snapshot). */
export type CapturedGrant = Pick<PlannedGrant, 'clientId' | 'consentType' | 'principalId' | 'resourceId' | 'scope'>;

/** What the snapshot holds about requested objects on other objects' side: memberships, assignments, grants. */
export interface CapturedRelated {
  memberships: CapturedMembership[];
  assignments: CapturedAssignment[];
  grants?: CapturedGrant[];
  /** Directory role assignments whose principal or administrative-unit scope is requested. */
  roleAssignments?: CapturedRoleAssignment[];
  /**
   * Whether the snapshot holds role assignments at all: only then is a live assignment missing from it one to remove
   * (a tenant always has at least one, its Global Administrator).
   */
  roleAssignmentsCaptured?: boolean;
  /** Scoped role memberships (AU scopedRoleMembers) whose AU or member is requested. */
  scopedRoleMembers?: CapturedScopedRoleMember[];
  /** Requested administrative units whose scopedRoleMembers the snapshot captured (only those can lose extra ones). */
  scopedRoleMembersCaptured?: string[];
}

export type CapturedScopedRoleMember = Pick<PlannedScopedRoleMember, 'administrativeUnitId' | 'roleId' | 'memberId'>;

/** Identity of a scoped role membership: one per AU, role and member. */
export function scopedRoleMemberKey(m: CapturedScopedRoleMember): string {
  return `${m.administrativeUnitId}|${m.roleId}|${m.memberId}`;
}

/** A scoped role membership as Graph lists it (roleMemberInfo holds the member). */
export function scopedRoleMemberOf(
  item: Record<string, unknown>,
  administrativeUnitId: string,
): (CapturedScopedRoleMember & { id: string }) | null {
  const memberId = (item.roleMemberInfo as { id?: unknown } | null | undefined)?.id;
  if (typeof item.roleId !== 'string' || typeof memberId !== 'string') return null;
  return { id: String(item.id), administrativeUnitId, roleId: item.roleId, memberId };
}

export type CapturedRoleAssignment = Pick<
  PlannedRoleAssignment,
  'principalId' | 'roleDefinitionId' | 'directoryScopeId'
>;

/** Identity of a role assignment: Graph keeps one per principal, role and scope. */
export function roleAssignmentKey(a: CapturedRoleAssignment): string {
  return `${a.principalId}|${a.roleDefinitionId}|${a.directoryScopeId}`;
}

const AU_SCOPE = /^\/administrativeUnits\/([^/]+)$/;

/** The administrative unit a role assignment is scoped to, if any. */
export function scopeUnit(directoryScopeId: string): string | undefined {
  return AU_SCOPE.exec(directoryScopeId)?.[1];
}

/** A role assignment as the live tenant holds it once restored: principal and AU scope remapped where re-created. */
export function liveRoleAssignment<T extends CapturedRoleAssignment>(
  a: T,
  mapping: Readonly<Record<string, string>>,
): T {
  const unit = scopeUnit(a.directoryScopeId);
  return {
    ...a,
    principalId: mapping[a.principalId] ?? a.principalId,
    directoryScopeId: unit && mapping[unit] ? `/administrativeUnits/${mapping[unit]}` : a.directoryScopeId,
  };
}

const MEMBER_TYPES = new Set(['users', 'groups', 'servicePrincipals', 'devices']);
const PRINCIPAL_TYPES = new Set(['users', 'groups', 'servicePrincipals']);

/**
 * Finds in the snapshot the groups and administrative units whose members include a requested object, and the
 * app-role assignments whose principal or resource is one. The snapshot keeps memberships on the parent's side only
 * (group → members), so every parent's member list is read once (lists shared by parents are read once per hash).
 */
export async function readRelated(
  repo: Repository,
  snapshotId: string,
  targets: readonly RestoreTarget[],
): Promise<CapturedRelated> {
  const members = new Set(targets.filter((t) => MEMBER_TYPES.has(t.type)).map((t) => t.id));
  const memberships: CapturedMembership[] = [];
  if (members.size > 0) {
    const hits = new Map<string, string[]>();
    for (const type of ['groups', 'administrativeUnits'] as const) {
      for (const e of await repo.listEntries(snapshotId, type)) {
        const hash = e.rels?.members;
        if (!hash) continue;
        let found = hits.get(hash);
        if (!found) {
          found = (await repo.readRelationship(hash)).map((i) => i.id).filter((id) => members.has(id));
          hits.set(hash, found);
        }
        if (found.length) memberships.push({ type, id: e.id, displayName: e.displayName, members: found.sort() });
      }
    }
  }
  const ends = new Set(targets.filter((t) => PRINCIPAL_TYPES.has(t.type)).map((t) => t.id));
  const assignments = new Map<string, CapturedAssignment>();
  if (ends.size > 0) {
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const seen = new Set<string>();
    for (const e of await repo.listEntries(snapshotId, 'servicePrincipals')) {
      // Every assignment is on its resource's appRoleAssignedTo; a requested SP's own grants are read as well in
      // case the resource's list was not captured.
      const lists = [e.rels?.appRoleAssignedTo, ends.has(e.id) ? e.rels?.appRoleAssignments : undefined];
      for (const hash of lists) {
        if (!hash || seen.has(hash)) continue;
        seen.add(hash);
        for (const i of await repo.readRelationship(hash)) {
          const principalId = str(i.principalId);
          const resourceId = str(i.resourceId);
          const appRoleId = str(i.appRoleId);
          if (!principalId || !resourceId || !appRoleId) continue;
          if (!ends.has(principalId) && !ends.has(resourceId)) continue;
          assignments.set(assignmentKey({ principalId, resourceId, appRoleId }), {
            principalId,
            principalType: str(i.principalType),
            principalDisplayName: str(i.principalDisplayName),
            resourceId,
            resourceDisplayName: str(i.resourceDisplayName),
            appRoleId,
          });
        }
      }
    }
  }
  const grants: CapturedGrant[] = [];
  if (ends.size > 0) {
    for await (const { object } of repo.readType(snapshotId, 'oauth2PermissionGrants')) {
      const g = object as Record<string, unknown>;
      const principalId = typeof g.principalId === 'string' ? g.principalId : null;
      if (typeof g.clientId !== 'string' || typeof g.resourceId !== 'string') continue;
      if (!ends.has(g.clientId) && !ends.has(g.resourceId) && !(principalId && ends.has(principalId))) continue;
      grants.push({
        clientId: g.clientId,
        consentType: String(g.consentType ?? 'AllPrincipals'),
        principalId,
        resourceId: g.resourceId,
        scope: String(g.scope ?? ''),
      });
    }
  }
  const units = new Set(targets.filter((t) => t.type === 'administrativeUnits').map((t) => t.id));
  const roleAssignments: CapturedRoleAssignment[] = [];
  let roleAssignmentsCaptured = false;
  if (ends.size > 0 || units.size > 0) {
    for await (const { object } of repo.readType(snapshotId, 'roleAssignments')) {
      roleAssignmentsCaptured = true;
      const a = object as Record<string, unknown>;
      if (typeof a.principalId !== 'string' || typeof a.roleDefinitionId !== 'string') continue;
      // App-scoped assignments (appScopeId) belong to other providers' scopes: not written back.
      if (typeof a.directoryScopeId !== 'string') continue;
      const unit = scopeUnit(a.directoryScopeId);
      if (!ends.has(a.principalId) && !(unit && units.has(unit))) continue;
      roleAssignments.push({
        principalId: a.principalId,
        roleDefinitionId: a.roleDefinitionId,
        directoryScopeId: a.directoryScopeId,
      });
    }
  }
  const scopedRoleMembers: CapturedScopedRoleMember[] = [];
  const scopedRoleMembersCaptured: string[] = [];
  if (members.size > 0 || units.size > 0) {
    for (const e of await repo.listEntries(snapshotId, 'administrativeUnits')) {
      const hash = e.rels?.scopedRoleMembers;
      if (!hash) continue;
      if (units.has(e.id)) scopedRoleMembersCaptured.push(e.id);
      for (const item of await repo.readRelationship(hash)) {
        const m = scopedRoleMemberOf(item, e.id);
        if (m && (units.has(e.id) || members.has(m.memberId))) {
          scopedRoleMembers.push({
            administrativeUnitId: m.administrativeUnitId,
            roleId: m.roleId,
            memberId: m.memberId,
          });
        }
      }
    }
  }
  return {
    memberships,
    assignments: [...assignments.values()],
    grants,
    roleAssignments,
    roleAssignmentsCaptured,
    scopedRoleMembers,
    scopedRoleMembersCaptured,
  };
}

/** Identity of a delegated grant: Graph keeps one per client, resource, consent type and principal. */
export function grantKey(g: {
  clientId: string;
  resourceId: string;
  consentType: string;
  principalId?: string | null;
}) {
  return `${g.clientId}|${g.resourceId}|${g.consentType}|${g.principalId ?? ''}`;
}

/** A grant as the live tenant holds it once restored: its client, resource and principal remapped where re-created. */
export function liveGrant(g: CapturedGrant, mapping: Readonly<Record<string, string>>): CapturedGrant {
  const live = (id: string) => mapping[id] ?? id;
  return {
    clientId: live(g.clientId),
    consentType: g.consentType,
    principalId: g.principalId ? live(g.principalId) : null,
    resourceId: live(g.resourceId),
    scope: g.scope,
  };
}

/** Scopes compared as a set: Graph keeps them space-separated in any order. */
export function sameScope(a: string | undefined, b: string | undefined): boolean {
  const set = (s: string | undefined) => [...new Set((s ?? '').split(' ').filter(Boolean))].sort().join(' ');
  return set(a) === set(b);
}

/** Identity of an assignment: Graph gives a re-created one a new id, so it is matched by what it grants to whom. */
export function assignmentKey(a: { principalId: string; resourceId: string; appRoleId: string }): string {
  return `${a.principalId}|${a.resourceId}|${a.appRoleId}`;
}

/** Property a type is searched by to find a re-created object (see naturalKey). */
export function keyProperty(type: string): string {
  return type === 'users' ? 'userPrincipalName' : type === 'servicePrincipals' ? 'appId' : 'displayName';
}

/**
 * Federated identity credentials of an application, compared by name (unique per application): captured ones the live
 * app lacks or holds differently are added (created or updated), live ones the snapshot lacks removed. A deleted app's
 * are all added: apply checks the live list first, so an app back from the recycle bin with them intact is left as is.
 */
async function planCredentials(
  graph: RestoreGraph,
  c: CapturedObject,
  live: boolean,
): Promise<{ change: RelationshipChange; bodies: { federatedIdentityCredentials: FederatedCredential[] } } | null> {
  if (c.type !== 'applications' || !c.credentials) return null;
  const now = live
    ? (
        await graph.readAll<Record<string, unknown>>(
          `/applications/${encodeURIComponent(c.id)}/federatedIdentityCredentials`,
        )
      ).map(credentialOf)
    : [];
  const add = c.credentials.filter((w) => !now.some((n) => sameCredential(n, w)));
  const remove = now.filter((n) => !c.credentials!.some((w) => w.name === n.name)).map((n) => n.name);
  if (add.length === 0 && remove.length === 0) return null;
  return {
    change: {
      name: 'federatedIdentityCredentials',
      add: add.map((a) => a.name).sort(),
      remove: remove.sort(),
      missing: [],
    },
    bodies: { federatedIdentityCredentials: add.sort((a, b) => (a.name < b.name ? -1 : 1)) },
  };
}

async function planOne(graph: RestoreGraph, c: CapturedObject, restoring: ReadonlySet<string>): Promise<PlannedObject> {
  const spec = getObjectType(c.type);
  const keys = Object.fromEntries(
    (['@odata.type', 'appId'] as const).flatMap((k) => (typeof c.object[k] === 'string' ? [[k, c.object[k]]] : [])),
  ) as Record<string, string>;
  const base = { type: c.type, id: c.id, displayName: c.displayName, ...(Object.keys(keys).length ? { keys } : {}) };
  const live = await graph.readLive(c.type, c.id);
  const relationships: RelationshipChange[] = [];
  if (live) {
    for (const rel of refRelationships(c.type)) {
      const now = new Set(await graph.relationshipIds(c.type, rel, c.id));
      const want = new Set(c.relationships[rel]);
      const add = [...want].filter((id) => !now.has(id));
      const remove = [...now].filter((id) => !want.has(id));
      if (add.length || remove.length) relationships.push({ name: rel, add, remove, missing: [] });
    }
    const credentials = await planCredentials(graph, c, true);
    if (credentials) relationships.push(credentials.change);
    const attributes = attributeChanges(c.type, c.object, live);
    const action = attributes.length || relationships.length ? 'update' : 'unchanged';
    return { ...base, action, attributes, relationships, ...credentials?.bodies };
  }
  const captured: RelationshipChange[] = Object.entries(c.relationships)
    .filter(([, ids]) => ids.length > 0)
    .map(([name, ids]) => ({ name, add: ids, remove: [], missing: [] }));
  const credentials = await planCredentials(graph, c, false);
  if (credentials) {
    captured.push(credentials.change);
    Object.assign(base, credentials.bodies);
  }
  if (spec.deletedItemsCast) {
    const deleted = await graph.getOrNull(`/directory/deletedItems/${encodeURIComponent(c.id)}`);
    if (deleted) {
      return {
        ...base,
        action: 'restore-from-recycle-bin',
        attributes: attributeChanges(c.type, c.object, deleted),
        relationships: captured,
      };
    }
  }
  if (spec.restore.strategy !== 'recycle-bin-then-recreate' && spec.restore.strategy !== 'recreate-with-id-remap') {
    return {
      ...base,
      action: 'impossible',
      reason: `a deleted object of type '${c.type}' cannot be re-created through Graph`,
      attributes: [],
      relationships: [],
    };
  }
  if (c.type === 'servicePrincipals' && !restoring.has(String(c.object.appId))) {
    const app = await graph.idsWhere('applications', 'appId', String(c.object.appId));
    if (app.length === 0) {
      return {
        ...base,
        action: 'impossible',
        reason: `its application (appId ${String(c.object.appId)}) is gone: restore the application with it`,
        attributes: [],
        relationships: [],
      };
    }
  }
  const prop = keyProperty(c.type);
  const key = naturalKey(c.type, c.object);
  const preexisting = (await graph.idsWhere(c.type, prop, String(c.object[prop] ?? '')))
    .filter((o) => naturalKey(c.type, o) === key)
    .map((o) => String(o.id));
  if (c.type === 'users' && preexisting.length > 0) {
    return {
      ...base,
      action: 'impossible',
      reason: `another user now has userPrincipalName '${String(c.object.userPrincipalName)}'`,
      attributes: [],
      relationships: [],
    };
  }
  const secrets = secretsOf(c.type, c.object);
  return {
    ...base,
    action: 'recreate',
    attributes: attributeChanges(c.type, c.object, null),
    relationships: captured,
    preexisting,
    ...(secrets.length ? { secretsToReissue: secrets } : {}),
  };
}

/** The plan of a restore against the live tenant; nothing is written. */
export async function computePlan(
  graph: RestoreGraph,
  captured: readonly CapturedObject[],
  header: Omit<
    RestorePlan,
    | 'v'
    | 'objects'
    | 'remaps'
    | 'memberships'
    | 'appRoleAssignments'
    | 'oauth2PermissionGrants'
    | 'roleAssignments'
    | 'scopedRoleMembers'
  >,
  related: CapturedRelated = { memberships: [], assignments: [] },
): Promise<RestorePlan> {
  // Service principals of applications restored alongside are matched by the app's appId.
  const restoring = new Set(
    captured.flatMap((c) => [c.id, ...(c.type === 'applications' ? [String(c.object.appId)] : [])]),
  );
  const objects: PlannedObject[] = [];
  for (const c of captured.filter((x) => x.type !== 'roleAssignments'))
    objects.push(await planOne(graph, c, restoring));
  // Named role assignments are planned after the objects they depend on (their principal, their AU scope).
  const named = captured.filter((x) => x.type === 'roleAssignments');
  if (named.length) {
    related = { ...related, roleAssignments: [...(related.roleAssignments ?? [])] };
    for (const c of named) {
      const o = await planNamedRoleAssignment(graph, c, objects);
      objects.push(o);
      if (o.action === 'recreate') related.roleAssignments!.push(capturedRoleAssignment(c.object)!);
    }
  }
  const recreated = new Set(objects.filter((o) => o.action === 'recreate').map((o) => o.id));
  for (const o of objects.filter((x) => x.action === 'recreate' && x.type === 'applications')) {
    const app = captured.find((c) => c.id === o.id);
    if (app) recreated.add(String(app.object.appId));
  }
  const remaps: RestorePlan['remaps'] = [];
  if (recreated.size > 0) {
    // A re-created policy's body is remapped as it is written; every other live policy (planned or not) is patched.
    const planned = new Set(objects.filter((o) => o.action === 'recreate').map((o) => o.id));
    for (const policy of await graph.readAll(getObjectType('conditionalAccessPolicies').path)) {
      const refs = conditionalAccessReferences(policy).filter((id) => recreated.has(id));
      if (refs.length && !planned.has(String(policy.id))) {
        remaps.push({
          type: 'conditionalAccessPolicies',
          id: String(policy.id),
          displayName: (policy.displayName as string | undefined) ?? null,
          references: refs,
        });
      }
    }
  }
  const memberships = await planMemberships(graph, objects, related.memberships);
  const appRoleAssignments = await planAssignments(graph, objects, related.assignments);
  const oauth2PermissionGrants = await planGrants(graph, objects, related.grants ?? []);
  const roleAssignments = await planRoleAssignments(graph, objects, related);
  const scopedRoleMembers = await planScopedRoleMembers(graph, objects, related);
  return {
    v: 1,
    ...header,
    objects,
    remaps,
    memberships,
    appRoleAssignments,
    oauth2PermissionGrants,
    ...(roleAssignments.length ? { roleAssignments } : {}),
    ...(scopedRoleMembers.length ? { scopedRoleMembers } : {}),
  };
}

/**
 * Member adds on live parents outside the request. A parent that is gone (and not requested) cannot take the member
 * back: it is named on the member as a `memberOf` relationship it misses.
 */
async function planMemberships(
  graph: RestoreGraph,
  objects: PlannedObject[],
  captured: readonly CapturedMembership[],
): Promise<PlannedMembership[]> {
  const requested = new Set(objects.map((o) => o.id));
  const byId = new Map(objects.map((o) => [o.id, o]));
  const out: PlannedMembership[] = [];
  for (const m of captured) {
    if (requested.has(m.id)) continue; // the parent's own plan restores its members
    const members = m.members.filter((id) => byId.get(id)?.action !== 'impossible');
    if (members.length === 0) continue;
    const parent = await graph.readLive(m.type, m.id);
    // Dynamic membership is computed by its rule: Graph refuses members/$ref there, and the rule brings members back.
    const groupTypes = parent?.groupTypes;
    if ((Array.isArray(groupTypes) && groupTypes.includes('DynamicMembership')) || parent?.membershipType === 'Dynamic')
      continue;
    if (!parent) {
      for (const id of members) {
        const o = byId.get(id)!;
        let rel = o.relationships.find((r) => r.name === 'memberOf');
        if (!rel) o.relationships.push((rel = { name: 'memberOf', add: [], remove: [], missing: [] }));
        rel.missing.push(m.id);
      }
      continue;
    }
    const now = new Set(await graph.relationshipIds(m.type, 'members', m.id));
    // A re-created member is not there under its old id; a member back from the recycle bin is not listed yet.
    const add = members.filter((id) => !now.has(id) || byId.get(id)?.action === 'recreate');
    if (add.length) out.push({ type: m.type, id: m.id, displayName: m.displayName, relationship: 'members', add });
  }
  return out;
}

/**
 * Grants whose client, resource (service principals) and principal (a user, for `Principal` consent) exist or come
 * back: created when the tenant has none for that client, resource and principal, re-scoped when its scope differs.
 */
async function planGrants(
  graph: RestoreGraph,
  objects: PlannedObject[],
  captured: readonly CapturedGrant[],
): Promise<PlannedGrant[]> {
  if (captured.length === 0) return [];
  const byId = new Map(objects.map((o) => [o.id, o]));
  const exists = async (id: string, type: string) => {
    const o = byId.get(id);
    return o ? o.action !== 'impossible' : (await graph.readLive(type, id)) !== null;
  };
  const live = new Map(
    (await graph.readAll<CapturedGrant & { id: string }>('/oauth2PermissionGrants')).map((g) => [grantKey(g), g]),
  );
  const out: PlannedGrant[] = [];
  for (const g of captured) {
    if (!(await exists(g.clientId, 'servicePrincipals')) || !(await exists(g.resourceId, 'servicePrincipals')))
      continue;
    if (g.principalId && !(await exists(g.principalId, 'users'))) continue;
    const recreated = [g.clientId, g.resourceId, g.principalId].some((id) => id && byId.get(id)?.action === 'recreate');
    const now = recreated ? undefined : live.get(grantKey(g));
    if (!now) out.push({ ...g, action: 'create' });
    else if (!sameScope(now.scope, g.scope))
      out.push({ ...g, action: 'update-scope', liveId: now.id, currentScope: now.scope });
  }
  return out.sort((x, y) => (grantKey(x) < grantKey(y) ? -1 : 1));
}

/** Assignments whose principal and resource exist (live, or brought back by this plan) and that the tenant lacks. */
async function planAssignments(
  graph: RestoreGraph,
  objects: PlannedObject[],
  captured: readonly CapturedAssignment[],
): Promise<PlannedAssignment[]> {
  const byId = new Map(objects.map((o) => [o.id, o]));
  const exists = new Map<string, boolean>();
  const live = async (id: string, type: string): Promise<boolean> => {
    const o = byId.get(id);
    if (o) return o.action !== 'impossible';
    if (!exists.has(id)) exists.set(id, (await graph.readLive(type, id)) !== null);
    return exists.get(id)!;
  };
  const principalTypes: Record<string, string> = {
    User: 'users',
    Group: 'groups',
    ServicePrincipal: 'servicePrincipals',
  };
  const assignedTo = new Map<string, Set<string>>();
  const out: PlannedAssignment[] = [];
  for (const a of captured) {
    const principalType = principalTypes[a.principalType ?? ''] ?? 'servicePrincipals';
    if (!(await live(a.principalId, principalType)) || !(await live(a.resourceId, 'servicePrincipals'))) continue;
    const recreated = [a.principalId, a.resourceId].some((id) => byId.get(id)?.action === 'recreate');
    if (!recreated && (await graph.readLive('servicePrincipals', a.resourceId))) {
      let have = assignedTo.get(a.resourceId);
      if (!have) {
        have = new Set((await graph.appRoleAssignedTo(a.resourceId)).map(assignmentKey));
        assignedTo.set(a.resourceId, have);
      }
      if (have.has(assignmentKey(a))) continue;
    }
    out.push({ ...a });
  }
  return out.sort((x, y) => (assignmentKey(x) < assignmentKey(y) ? -1 : 1));
}

const ROLE_ASSIGNMENTS = '/roleManagement/directory/roleAssignments';

function capturedRoleAssignment(o: Record<string, unknown>): CapturedRoleAssignment | null {
  if (typeof o.principalId !== 'string' || typeof o.roleDefinitionId !== 'string') return null;
  if (typeof o.directoryScopeId !== 'string') return null;
  return { principalId: o.principalId, roleDefinitionId: o.roleDefinitionId, directoryScopeId: o.directoryScopeId };
}

/**
 * A role assignment named in the request: `unchanged` when the tenant holds one for the same principal, role and
 * scope (by whatever id), `recreate` when not (Graph gives it a new id; the create is one of the plan's
 * roleAssignments), `impossible` when its principal or AU is gone and not part of the restore, or it is app-scoped.
 */
async function planNamedRoleAssignment(
  graph: RestoreGraph,
  c: CapturedObject,
  objects: readonly PlannedObject[],
): Promise<PlannedObject> {
  const a = capturedRoleAssignment(c.object);
  const base = { type: c.type, id: c.id, displayName: c.displayName, attributes: [], relationships: [] };
  if (!a)
    return { ...base, action: 'impossible', reason: 'an app-scoped role assignment (appScopeId) is not restored' };
  const planned = (id: string) => objects.find((o) => o.id === id);
  const exists = async (id: string, types: string[]) => {
    const o = planned(id);
    if (o) return o.action !== 'impossible';
    for (const type of types) if ((await graph.readLive(type, id)) !== null) return true;
    return false;
  };
  if (!(await exists(a.principalId, ['users', 'groups', 'servicePrincipals'])))
    return {
      ...base,
      action: 'impossible',
      reason: `its principal ${a.principalId} is gone: restore the user, group or service principal with it`,
    };
  const unit = scopeUnit(a.directoryScopeId);
  if (unit && !(await exists(unit, ['administrativeUnits'])))
    return {
      ...base,
      action: 'impossible',
      reason: `its administrative unit ${unit} is gone: restore the administrative unit with it`,
    };
  const recreated = [a.principalId, unit].some((id) => id && planned(id)?.action === 'recreate');
  const live = recreated ? [] : await roleAssignmentsOf(graph, a.principalId);
  const action = live.some((x) => roleAssignmentKey(x) === roleAssignmentKey(a)) ? 'unchanged' : 'recreate';
  return { ...base, action };
}

/** Live directory role assignments of a principal ($filter on principalId, as Graph documents). */
export function roleAssignmentsOf(
  graph: RestoreGraph,
  principalId: string,
): Promise<(CapturedRoleAssignment & { id: string })[]> {
  return graph.readAll(`${ROLE_ASSIGNMENTS}?$filter=principalId eq '${encodeURIComponent(principalId)}'`);
}

/**
 * Role assignments to create: captured ones of requested principals or AU scopes whose principal and AU exist (live,
 * or brought back by this plan), that the tenant lacks (always, when the principal or the AU is re-created). Role
 * assignments to remove: live ones of requested live principals the snapshot does not hold, only when the snapshot
 * captured role assignments at all.
 */
async function planRoleAssignments(
  graph: RestoreGraph,
  objects: PlannedObject[],
  related: CapturedRelated,
): Promise<PlannedRoleAssignment[]> {
  const captured = related.roleAssignments ?? [];
  const byId = new Map(objects.map((o) => [o.id, o]));
  const principals = objects.filter((o) => PRINCIPAL_TYPES.has(o.type) && o.action !== 'impossible');
  if (captured.length === 0 && !(related.roleAssignmentsCaptured && principals.length > 0)) return [];
  const live = liveCheck(graph, byId);
  const assignmentsOf = memoised((principalId: string) => roleAssignmentsOf(graph, principalId));
  const out: PlannedRoleAssignment[] = [];
  const seen = new Set<string>();
  for (const a of captured) {
    const key = roleAssignmentKey(a);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!(await live(a.principalId, ['users', 'groups', 'servicePrincipals']))) continue;
    const unit = scopeUnit(a.directoryScopeId);
    if (unit && !(await live(unit, ['administrativeUnits']))) continue;
    const recreated = [a.principalId, unit].some((id) => id && byId.get(id)?.action === 'recreate');
    if (!recreated && (await assignmentsOf(a.principalId)).some((x) => roleAssignmentKey(x) === key)) continue;
    out.push({ action: 'create', ...a });
  }
  if (related.roleAssignmentsCaptured) {
    const wanted = new Set(captured.map(roleAssignmentKey));
    for (const p of principals.filter((o) => o.action !== 'recreate')) {
      for (const x of await assignmentsOf(p.id)) {
        if (typeof x.directoryScopeId !== 'string' || wanted.has(roleAssignmentKey(x))) continue;
        out.push({
          action: 'remove',
          principalId: x.principalId,
          roleDefinitionId: x.roleDefinitionId,
          directoryScopeId: x.directoryScopeId,
          liveId: x.id,
        });
      }
    }
  }
  return out.sort((x, y) => (roleAssignmentKey(x) < roleAssignmentKey(y) ? -1 : 1));
}

/** Live scoped role memberships of an administrative unit. */
export async function scopedRoleMembersOf(
  graph: RestoreGraph,
  administrativeUnitId: string,
): Promise<(CapturedScopedRoleMember & { id: string })[]> {
  const items = await graph.readAll<Record<string, unknown>>(
    `/directory/administrativeUnits/${encodeURIComponent(administrativeUnitId)}/scopedRoleMembers`,
  );
  return items.flatMap((i) => scopedRoleMemberOf(i, administrativeUnitId) ?? []);
}

/**
 * Scoped role memberships to create: captured ones of requested AUs or members whose AU and member exist (live, or
 * brought back by this plan) and that the live AU lacks (a deleted or re-created AU's are all planned; apply reads the
 * list first). To remove: live ones of requested live AUs the snapshot does not hold, where it captured the AU's list.
 */
async function planScopedRoleMembers(
  graph: RestoreGraph,
  objects: PlannedObject[],
  related: CapturedRelated,
): Promise<PlannedScopedRoleMember[]> {
  const captured = related.scopedRoleMembers ?? [];
  const byId = new Map(objects.map((o) => [o.id, o]));
  const units = objects.filter(
    (o) =>
      o.type === 'administrativeUnits' &&
      (o.action === 'update' || o.action === 'unchanged') &&
      (related.scopedRoleMembersCaptured ?? []).includes(o.id),
  );
  if (captured.length === 0 && units.length === 0) return [];
  const live = liveCheck(graph, byId);
  const membersOf = memoised((auId: string) => scopedRoleMembersOf(graph, auId));
  const out: PlannedScopedRoleMember[] = [];
  const seen = new Set<string>();
  for (const m of captured) {
    const key = scopedRoleMemberKey(m);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!(await live(m.administrativeUnitId, ['administrativeUnits']))) continue;
    if (!(await live(m.memberId, ['users', 'groups', 'servicePrincipals']))) continue;
    const unit = byId.get(m.administrativeUnitId);
    const auLive = !unit || unit.action === 'update' || unit.action === 'unchanged';
    const recreated = byId.get(m.memberId)?.action === 'recreate';
    if (auLive && !recreated && (await membersOf(m.administrativeUnitId)).some((x) => scopedRoleMemberKey(x) === key))
      continue;
    out.push({ action: 'create', ...m });
  }
  const wanted = new Set(captured.map(scopedRoleMemberKey));
  for (const u of units) {
    for (const x of await membersOf(u.id)) {
      if (wanted.has(scopedRoleMemberKey(x))) continue;
      out.push({ action: 'remove', administrativeUnitId: u.id, roleId: x.roleId, memberId: x.memberId, liveId: x.id });
    }
  }
  return out.sort((x, y) => (scopedRoleMemberKey(x) < scopedRoleMemberKey(y) ? -1 : 1));
}

export function planHash(plan: RestorePlan): string {
  return sha256Hex(Buffer.from(canonicalJson(plan), 'utf8'));
}

export function countPlan(plan: RestorePlan): PlanCounts {
  const n = (a: string) => plan.objects.filter((o) => o.action === a).length;
  return {
    objects: plan.objects.length,
    unchanged: n('unchanged'),
    update: n('update'),
    restoreFromRecycleBin: n('restore-from-recycle-bin'),
    recreate: n('recreate'),
    impossible: n('impossible'),
    attributeChanges: plan.objects.reduce((s, o) => s + o.attributes.length, 0),
    relationshipChanges: plan.objects.reduce(
      (s, o) => s + o.relationships.reduce((r, x) => r + x.add.length + x.remove.length, 0),
      0,
    ),
    memberships: plan.memberships.reduce((s, m) => s + m.add.length, 0),
    appRoleAssignments: plan.appRoleAssignments.length,
    oauth2PermissionGrants: plan.oauth2PermissionGrants.length,
    ...(plan.roleAssignments?.length ? { roleAssignments: plan.roleAssignments.length } : {}),
    ...(plan.scopedRoleMembers?.length ? { scopedRoleMembers: plan.scopedRoleMembers.length } : {}),
  };
}

/**
 * Whether an object a planned assignment names is (or will be) there: one of the plan's objects unless it is
 * impossible, else found live under one of `types` (each id read once per plan).
 */
function liveCheck(graph: RestoreGraph, planned: Map<string, PlannedObject>) {
  const exists = new Map<string, boolean>();
  return async (id: string, types: string[]): Promise<boolean> => {
    const o = planned.get(id);
    if (o) return o.action !== 'impossible';
    if (!exists.has(id)) {
      let found = false;
      for (const type of types) if (!found) found = (await graph.readLive(type, id)) !== null;
      exists.set(id, found);
    }
    return exists.get(id)!;
  };
}

/** `read` called once per key; later calls share its answer. */
function memoised<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const answers = new Map<string, Promise<T>>();
  return (key) => {
    let p = answers.get(key);
    if (!p) answers.set(key, (p = read(key)));
    return p;
  };
}
