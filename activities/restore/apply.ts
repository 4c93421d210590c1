import { randomBytes } from 'node:crypto';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { getObjectType } from '../../catalog';
import { naturalKey, remapIds } from '../../restore/compare';
import type { PlannedObject, RestorePlan } from '../../restore/types';
import {
  credentialOf,
  grantKey,
  keyProperty,
  liveGrant,
  liveRoleAssignment,
  roleAssignmentKey,
  roleAssignmentsOf,
  sameCredential,
  scopedRoleMemberKey,
  scopedRoleMembersOf,
  sameScope,
  type CapturedGrant,
} from './plan';
import { isAlreadyExists, isStatus, withReplicationRetry, type RestoreGraph } from './restore-graph';

/** What applying has done so far, stored next to the plan so a retried or resumed activity carries on from it. */
export interface RestoreProgress {
  v: 1;
  done: string[];
  /** Old id → new id of re-created objects (and old appId → new appId of re-created applications). */
  mapping: Record<string, string>;
  /** Object id → relationship → captured targets that no longer exist. */
  missing: Record<string, Record<string, string[]>>;
  failures: Record<string, string>;
  temporaryPasswordUsers: string[];
  writes: number;
}

export const emptyProgress = (): RestoreProgress => ({
  v: 1,
  done: [],
  mapping: {},
  missing: {},
  failures: {},
  temporaryPasswordUsers: [],
  writes: 0,
});

const REPORT_ONLY = 'enabledForReportingButNotEnforced';

/** A temporary password Graph's complexity rules accept; handed to Graph only, never logged or stored. */
function temporaryPassword(): string {
  return `Rt!${randomBytes(18).toString('base64url')}9a`;
}

function writeBody(plan: RestorePlan, o: PlannedObject, mapping: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const a of o.attributes) body[a.name] = remapIds(a.restored, mapping);
  if (o.type === 'conditionalAccessPolicies' && 'state' in body && plan.conditionalAccessState === 'report-only') {
    body.state = REPORT_ONLY;
  }
  if (
    o.type === 'conditionalAccessPolicies' &&
    o.action === 'recreate' &&
    plan.conditionalAccessState === 'report-only'
  )
    body.state = REPORT_ONLY;
  // Named locations are polymorphic: Graph needs the derived type in every write
  // (https://learn.microsoft.com/en-us/graph/api/conditionalaccessroot-post-namedlocations?view=graph-rest-1.0).
  const odataType = o.keys?.['@odata.type'];
  if (odataType) body['@odata.type'] = odataType;
  return body;
}

function refUrl(graph: RestoreGraph, id: string): string {
  return graph.url(`/directoryObjects/${id}`);
}

/**
 * Applies one object of a plan. Every step is safe to run again: a restore from the recycle bin that finds the object
 * already back goes on, a re-create first looks for the object an earlier attempt created, reference adds tolerate
 * "already exists" and removals "not found".
 */
export async function applyObject(
  graph: RestoreGraph,
  plan: RestorePlan,
  o: PlannedObject,
  progress: RestoreProgress,
  save: () => Promise<void>,
): Promise<void> {
  const spec = getObjectType(o.type);
  const path = (id: string) => `${spec.path}/${encodeURIComponent(id)}`;
  let liveId = o.id;
  if (o.action === 'restore-from-recycle-bin') {
    try {
      await graph.post(`/directory/deletedItems/${encodeURIComponent(o.id)}/restore`, {});
    } catch (err) {
      // Restored by an earlier attempt whose answer was lost: the object is live again.
      if (!(isStatus(err, 404) && (await graph.readLive(o.type, o.id)))) throw err;
    }
    if (o.type === 'applications') await restoreServicePrincipalOf(graph, o);
  }
  if (o.action === 'recreate') {
    liveId = await recreate(graph, plan, o, progress);
    await save();
  }
  if (o.action === 'update' || o.action === 'restore-from-recycle-bin') {
    const body = writeBody(plan, o, progress.mapping);
    if (Object.keys(body).filter((k) => k !== '@odata.type').length > 0) {
      await withReplicationRetry(() => graph.patch(path(liveId), body));
    }
  }
  for (const rel of o.relationships) {
    if (rel.name === 'federatedIdentityCredentials') {
      await applyCredentials(graph, o, liveId, rel.remove);
      continue;
    }
    const relPath = `${path(liveId)}/${rel.name}`;
    for (const target of rel.add) {
      const mapped = progress.mapping[target] ?? target;
      try {
        await withReplicationRetry(() => graph.post(`${relPath}/$ref`, { '@odata.id': refUrl(graph, mapped) }), 4);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        if (isStatus(err, 404)) {
          const missing = (progress.missing[o.id] ??= {});
          (missing[rel.name] ??= []).push(target);
          continue;
        }
        throw err;
      }
    }
    for (const target of rel.remove) {
      try {
        await graph.delete(`${relPath}/${encodeURIComponent(target)}/$ref`);
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
  }
}

/**
 * Writes an application's federated identity credentials back
 * (https://learn.microsoft.com/en-us/graph/api/application-post-federatedidentitycredentials?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/federatedidentitycredential-update?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/federatedidentitycredential-delete?view=graph-rest-1.0). The name is
 * unique per application and cannot change, so the live list is read first: a credential of that name is updated
 * (issuer, subject, audiences, description) when it differs and left alone when equal, else created. A create that
 * landed but whose answer was lost finds it there on the retry; a create answered "already exists" is read and
 * updated. Removals tolerate "not found".
 */
async function applyCredentials(graph: RestoreGraph, o: PlannedObject, appId: string, remove: string[]) {
  const base = `/applications/${encodeURIComponent(appId)}/federatedIdentityCredentials`;
  const liveList = async () =>
    (await withReplicationRetry(() => graph.readAll<Record<string, unknown>>(base))).map((c) => ({
      id: String(c.id),
      cred: credentialOf(c),
    }));
  let now = await liveList();
  for (const want of o.federatedIdentityCredentials ?? []) {
    let have = now.find((n) => n.cred.name === want.name);
    if (!have) {
      try {
        // A credential captured without a description is created without one (not with an explicit null).
        const { description, ...rest } = want;
        await withReplicationRetry(() => graph.post(base, description === null ? rest : want), 4);
        continue;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        now = await liveList();
        have = now.find((n) => n.cred.name === want.name);
        if (!have) throw err;
      }
    }
    if (!sameCredential(have.cred, want)) {
      const { issuer, subject, audiences, description } = want;
      await graph.patch(`${base}/${encodeURIComponent(have.id)}`, { issuer, subject, audiences, description });
    }
  }
  for (const name of remove) {
    const have = now.find((n) => n.cred.name === name);
    if (!have) continue;
    try {
      await graph.delete(`${base}/${encodeURIComponent(have.id)}`);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
}

/**
 * Restoring an application does not restore its service principal: bring it back too
 * (https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore?view=graph-rest-1.0).
 */
async function restoreServicePrincipalOf(graph: RestoreGraph, app: PlannedObject): Promise<void> {
  const live = await graph.readLive('applications', app.id);
  const appId = live?.appId;
  if (typeof appId !== 'string') return;
  const deleted = await graph.readAll<{ id: string; appId?: string }>(
    `/directory/deletedItems/microsoft.graph.servicePrincipal?$filter=appId eq '${appId}'`,
  );
  for (const sp of deleted.filter((s) => s.appId === appId)) {
    try {
      await graph.post(`/directory/deletedItems/${encodeURIComponent(sp.id)}/restore`, {});
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
}

/** An object this restore created in an earlier attempt: same natural key, and not one that existed at planning. */
async function findRecreated(graph: RestoreGraph, o: PlannedObject, body: Record<string, unknown>) {
  const prop = keyProperty(o.type);
  const value = body[prop];
  if (typeof value !== 'string') return undefined;
  const key = naturalKey(o.type, body);
  const preexisting = new Set(o.preexisting ?? []);
  const found = await graph.idsWhere(o.type, prop, value);
  return found.find((x) => naturalKey(o.type, x) === key && !preexisting.has(String(x.id)));
}

async function recreate(
  graph: RestoreGraph,
  plan: RestorePlan,
  o: PlannedObject,
  progress: RestoreProgress,
): Promise<string> {
  const spec = getObjectType(o.type);
  const body = writeBody(plan, o, progress.mapping);
  let created: Record<string, unknown> | undefined = await findRecreated(graph, o, body);
  if (!created) {
    if (o.type === 'users') {
      body.passwordProfile = { password: temporaryPassword(), forceChangePasswordNextSignIn: true };
    }
    try {
      created = await withReplicationRetry(() => graph.post(spec.path, body));
    } catch (err) {
      // The create landed but its answer was lost (a timeout, a 5xx after the write): find it.
      if (!(err instanceof GraphError && isAlreadyExists(err))) throw err;
      created = await findRecreated(graph, o, body);
      if (!created) throw err;
    }
  }
  if (!created) throw new Error(`re-creating ${o.type} '${o.id}' returned no object`);
  const newId = String(created.id);
  progress.mapping[o.id] = newId;
  const oldAppId = o.keys?.appId;
  if (o.type === 'applications' && oldAppId && typeof created.appId === 'string') {
    progress.mapping[oldAppId] = created.appId;
    // identifierUris such as api://{appId} name the new appId now: a URI must hold the app id, the tenant id or a
    // verified domain (https://learn.microsoft.com/en-us/entra/identity-platform/identifier-uri-restrictions).
    const uris = body.identifierUris;
    if (Array.isArray(uris) && !sameList(remapIds(uris, progress.mapping), uris)) {
      await withReplicationRetry(() =>
        graph.patch(`${spec.path}/${newId}`, { identifierUris: remapIds(uris, progress.mapping) }),
      );
    }
  }
  if (o.type === 'users' && !progress.temporaryPasswordUsers.includes(newId))
    progress.temporaryPasswordUsers.push(newId);
  return newId;
}

function sameList(a: unknown, b: unknown[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Rewrites references to re-created objects in live conditional access policies the plan does not restore. */
export async function applyRemaps(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress): Promise<void> {
  for (const r of plan.remaps) {
    if (progress.done.includes(`remap:${r.id}`)) continue;
    const policy = await graph.getOrNull(`/identity/conditionalAccess/policies/${encodeURIComponent(r.id)}`);
    if (policy) {
      const conditions = remapIds(policy.conditions, progress.mapping);
      await graph.patch(`/identity/conditionalAccess/policies/${encodeURIComponent(r.id)}`, { conditions });
    }
    progress.done.push(`remap:${r.id}`);
  }
}

/**
 * Adds requested objects back to their groups and administrative units outside the request (members/$ref on the
 * parent, the member's new id when it was re-created). "Already exists" is success; a 404 after the replication
 * retries (the parent deleted since planning) is recorded as a membership the member misses.
 */
export async function applyMemberships(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress) {
  for (const m of plan.memberships) {
    const marker = `membership:${m.type}:${m.id}`;
    if (progress.done.includes(marker)) continue;
    const relPath = `${getObjectType(m.type).path}/${encodeURIComponent(m.id)}/${m.relationship}/$ref`;
    for (const member of m.add) {
      const mapped = progress.mapping[member] ?? member;
      try {
        await withReplicationRetry(() => graph.post(relPath, { '@odata.id': refUrl(graph, mapped) }), 4);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        if (!isStatus(err, 404)) throw err;
        const missing = (progress.missing[member] ??= {});
        (missing.memberOf ??= []).push(m.id);
      }
    }
    progress.done.push(marker);
  }
}

/**
 * Creates the plan's app-role assignments on their resource (POST /servicePrincipals/{id}/appRoleAssignedTo,
 * https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignedto?view=graph-rest-1.0), ids
 * remapped. Graph gives each a new id and refuses a duplicate ("Permission being assigned already exists on the
 * object"), so a retried create that had landed is success; the live list is checked first all the same.
 */
export async function applyAssignments(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress) {
  for (const a of plan.appRoleAssignments) {
    const principalId = progress.mapping[a.principalId] ?? a.principalId;
    const resourceId = progress.mapping[a.resourceId] ?? a.resourceId;
    const marker = `assignment:${a.principalId}|${a.resourceId}|${a.appRoleId}`;
    if (progress.done.includes(marker)) continue;
    try {
      const live = await withReplicationRetry(() => graph.appRoleAssignedTo(resourceId));
      if (!live.some((x) => x.principalId === principalId && x.appRoleId === a.appRoleId)) {
        await withReplicationRetry(
          () =>
            graph.post(`/servicePrincipals/${encodeURIComponent(resourceId)}/appRoleAssignedTo`, {
              principalId,
              resourceId,
              appRoleId: a.appRoleId,
            }),
          4,
        );
      }
    } catch (err) {
      settleWriteError(err, progress, marker);
    }
    progress.done.push(marker);
  }
}

/**
 * Creates or re-scopes the plan's delegated permission grants, ids remapped
 * (https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-post?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-update?view=graph-rest-1.0). Graph keeps one grant
 * per client, resource, consent type and principal and refuses a second ("Permission entry already exists"): the live
 * grants are read first, so a retried create becomes a scope check.
 */
export async function applyGrants(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress) {
  const pending = plan.oauth2PermissionGrants.filter((g) => !progress.done.includes(`grant:${grantKey(g)}`));
  if (pending.length === 0) return;
  const live = new Map(
    (await graph.readAll<CapturedGrant & { id: string }>('/oauth2PermissionGrants')).map((g) => [grantKey(g), g]),
  );
  for (const g of pending) {
    const marker = `grant:${grantKey(g)}`;
    const body = liveGrant(g, progress.mapping);
    try {
      const now = live.get(grantKey(body));
      if (!now) await withReplicationRetry(() => graph.post('/oauth2PermissionGrants', body), 4);
      else if (!sameScope(now.scope, g.scope))
        await graph.patch(`/oauth2PermissionGrants/${encodeURIComponent(now.id)}`, { scope: g.scope });
    } catch (err) {
      settleWriteError(err, progress, marker);
    }
    progress.done.push(marker);
  }
}

/**
 * Creates and removes the plan's directory role assignments, principal and AU scope remapped
 * (https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleassignments?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/unifiedroleassignment-delete?view=graph-rest-1.0). Graph gives each a
 * new id and answers a duplicate (same principal, role and scope) 400 "A conflicting object with one or more of the
 * specified property values is present in the directory." (https://github.com/dod-ccpo/atat/pull/1554): the
 * principal's live assignments are read first ($filter=principalId eq), and a duplicate answer after a lost one is
 * success. A removal tolerates "not found". Other 4xx (a group that is not role-assignable, a custom role deleted since)
 * are recorded against the assignment and the restore goes on.
 */
export async function applyRoleAssignments(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress) {
  for (const a of plan.roleAssignments ?? []) {
    const marker = `roleAssignment:${a.action}:${roleAssignmentKey(a)}`;
    if (progress.done.includes(marker)) continue;
    const body = liveRoleAssignment(
      { principalId: a.principalId, roleDefinitionId: a.roleDefinitionId, directoryScopeId: a.directoryScopeId },
      progress.mapping,
    );
    try {
      if (a.action === 'remove') {
        try {
          await graph.delete(`/roleManagement/directory/roleAssignments/${encodeURIComponent(a.liveId ?? '')}`);
        } catch (err) {
          if (!isStatus(err, 404)) throw err;
        }
      } else {
        const live = await withReplicationRetry(() => roleAssignmentsOf(graph, body.principalId));
        if (!live.some((x) => roleAssignmentKey(x) === roleAssignmentKey(body))) {
          await withReplicationRetry(() => graph.post('/roleManagement/directory/roleAssignments', body), 4);
        }
      }
    } catch (err) {
      settleWriteError(err, progress, marker, isConflictingObject);
    }
    progress.done.push(marker);
  }
}

/**
 * Creates and removes the plan's scoped role memberships of administrative units, AU and member remapped
 * (https://learn.microsoft.com/en-us/graph/api/administrativeunit-post-scopedrolemembers?view=graph-rest-1.0,
 * https://learn.microsoft.com/en-us/graph/api/administrativeunit-delete-scopedrolemembers?view=graph-rest-1.0). They
 * are the AU-scoped view of role assignments: one the role assignment stage already created answers "conflicting
 * object", which is success, as is a create whose answer was lost; the AU's live list is read first all the same.
 */
export async function applyScopedRoleMembers(graph: RestoreGraph, plan: RestorePlan, progress: RestoreProgress) {
  for (const m of plan.scopedRoleMembers ?? []) {
    const marker = `scopedRoleMember:${m.action}:${scopedRoleMemberKey(m)}`;
    if (progress.done.includes(marker)) continue;
    const auId = progress.mapping[m.administrativeUnitId] ?? m.administrativeUnitId;
    const memberId = progress.mapping[m.memberId] ?? m.memberId;
    const base = `/directory/administrativeUnits/${encodeURIComponent(auId)}/scopedRoleMembers`;
    try {
      if (m.action === 'remove') {
        try {
          await graph.delete(`${base}/${encodeURIComponent(m.liveId ?? '')}`);
        } catch (err) {
          if (!isStatus(err, 404)) throw err;
        }
      } else {
        const live = await withReplicationRetry(() => scopedRoleMembersOf(graph, auId));
        if (!live.some((x) => x.roleId === m.roleId && x.memberId === memberId)) {
          await withReplicationRetry(() => graph.post(base, { roleId: m.roleId, roleMemberInfo: { id: memberId } }), 4);
        }
      }
    } catch (err) {
      settleWriteError(err, progress, marker, isConflictingObject);
    }
    progress.done.push(marker);
  }
}

/**
 * A write's error: nothing to do when Graph says it is there already (`alsoDone` names other answers that mean so),
 * recorded against `marker` when Graph refused it for good (a 4xx), thrown when a retry may succeed (5xx, 429, no
 * answer).
 */
function settleWriteError(
  err: unknown,
  progress: RestoreProgress,
  marker: string,
  alsoDone: (err: GraphError) => boolean = () => false,
): void {
  if (isAlreadyExists(err) || (err instanceof GraphError && alsoDone(err))) return;
  if (!(err instanceof GraphError) || err.statusCode >= 500 || err.statusCode === 429) throw err;
  progress.failures[marker] = `Graph answered ${err.statusCode} ${err.code ?? ''}: ${err.message}`;
}

/** Graph's answer to a duplicate role assignment or scoped role member (see applyRoleAssignments). */
function isConflictingObject(err: GraphError): boolean {
  return err.statusCode === 400 && /conflicting object/i.test(err.message);
}
