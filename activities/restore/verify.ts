import { attributeChanges, remapIds } from '../../restore/compare';
import type { FederatedCredential, ObjectReport, RestorePlan, RestoreReport } from '../../restore/types';
import type { RestoreProgress } from './apply';
import {
  assignmentKey,
  credentialOf,
  grantKey,
  liveGrant,
  liveRoleAssignment,
  roleAssignmentKey,
  roleAssignmentsOf,
  sameCredential,
  scopeUnit,
  scopedRoleMemberKey,
  scopedRoleMembersOf,
  refRelationships,
  sameScope,
  type CapturedGrant,
  type CapturedObject,
} from './plan';
import type { RestoreGraph } from './restore-graph';

const REPORT_ONLY = 'enabledForReportingButNotEnforced';

/**
 * Reads every object the restore touched back from Graph and compares it with the snapshot (ids remapped): the proof
 * that the restore worked, property by property. Relationship targets that no longer exist are not restorable and
 * are named, not counted.
 */
export async function verifyRestore(
  graph: RestoreGraph,
  plan: RestorePlan,
  captured: readonly CapturedObject[],
  progress: RestoreProgress,
): Promise<RestoreReport> {
  const objects: ObjectReport[] = [];
  let restorable = 0;
  let restored = 0;
  const secretsToReissue: RestoreReport['secretsToReissue'] = [];
  const cache: ReadCache = { members: new Map(), assignedTo: new Map() };
  for (const o of plan.objects) {
    const c = captured.find((x) => x.type === o.type && x.id === o.id);
    const base = { type: o.type, id: o.id, displayName: o.displayName };
    if (!c) continue;
    if (o.action === 'impossible') {
      objects.push({ ...base, outcome: 'not-restorable', error: o.reason });
      continue;
    }
    if (o.secretsToReissue?.length)
      secretsToReissue.push({ type: o.type, id: o.id, displayName: o.displayName, secrets: o.secretsToReissue });
    if (o.type === 'roleAssignments') {
      objects.push(await verifyNamedRoleAssignment(graph, o, c, progress));
      restorable++;
      if (objects[objects.length - 1].outcome !== 'failed') restored++;
      continue;
    }
    const liveId = progress.mapping[o.id] ?? o.id;
    const failure = progress.failures[o.id];
    const live = await graph.readLive(o.type, liveId);
    if (!live) {
      objects.push({
        ...base,
        outcome: 'failed',
        error: failure ?? 'the object is not in the tenant after the restore',
      });
      continue;
    }
    const expected = remapIds(c.object, progress.mapping);
    if (o.type === 'conditionalAccessPolicies' && plan.conditionalAccessState === 'report-only') {
      // Deliberate: a re-created or reset policy comes back report-only unless the request asked otherwise.
      const reset = o.action === 'recreate' || o.attributes.some((a) => a.name === 'state');
      if (reset) expected.state = REPORT_ONLY;
    }
    const differences: NonNullable<ObjectReport['differences']> = attributeChanges(o.type, expected, live).map((d) => ({
      name: d.name,
      expected: d.restored,
      actual: d.current,
      why: failure ?? 'Graph accepted the write but the property reads back different',
    }));
    const attributeCount = attributeChanges(o.type, expected, null).length;
    restorable += attributeCount;
    restored += attributeCount - Math.min(differences.length, attributeCount);
    for (const rel of refRelationships(o.type)) {
      const gone = new Set(progress.missing[o.id]?.[rel] ?? []);
      const want = c.relationships[rel].filter((id) => !gone.has(id)).map((id) => progress.mapping[id] ?? id);
      const have = new Set(await graph.relationshipIds(o.type, rel, liveId));
      const lacking = want.filter((id) => !have.has(id));
      restorable += want.length;
      restored += want.length - lacking.length;
      if (lacking.length) {
        differences.push({ name: rel, expected: lacking, actual: null, why: failure ?? 'not in the relationship' });
      }
      if (gone.size) {
        differences.push({
          name: rel,
          expected: [...gone],
          actual: null,
          why: 'these members no longer exist in the tenant and were not part of this restore',
        });
      }
    }
    if (o.type === 'applications' && c.credentials) {
      const creds = await verifyCredentials(graph, c.credentials, liveId, failure);
      restorable += creds.restorable;
      restored += creds.restored;
      differences.push(...creds.differences);
    }
    const related = await verifyRelated(graph, plan, progress, o.id, liveId, cache);
    restorable += related.restorable;
    restored += related.restored;
    differences.push(...related.differences);
    const outcome =
      o.action === 'unchanged' && differences.length === 0 && related.restorable === 0
        ? 'unchanged'
        : differences.length === 0 && !failure
          ? 'restored'
          : 'partly-restored';
    objects.push({
      ...base,
      ...(liveId !== o.id ? { liveId } : {}),
      outcome,
      ...(differences.length ? { differences } : {}),
      ...(failure ? { error: failure } : {}),
    });
  }
  return {
    v: 1,
    restoreId: plan.restoreId,
    objects,
    idMapping: progress.mapping,
    secretsToReissue,
    temporaryPasswordUsers: progress.temporaryPasswordUsers,
    fidelity: { restorable, restored },
  };
}

interface ReadCache {
  members: Map<string, Promise<Set<string>>>;
  assignedTo: Map<string, Promise<Set<string>>>;
  roleAssignments?: Map<string, Promise<Set<string>>>;
  scopedRoleMembers?: Map<string, Promise<Set<string>>>;
  grants?: Promise<Map<string, string | undefined>>;
}

type Difference = NonNullable<ObjectReport['differences']>[number];

/** A role assignment named in the request, read back: the principal (by its new id) holds it at its (new) scope. */
async function verifyNamedRoleAssignment(
  graph: RestoreGraph,
  o: RestorePlan['objects'][number],
  c: CapturedObject,
  progress: RestoreProgress,
): Promise<ObjectReport> {
  const base = { type: o.type, id: o.id, displayName: o.displayName };
  const captured = {
    principalId: String(c.object.principalId),
    roleDefinitionId: String(c.object.roleDefinitionId),
    directoryScopeId: String(c.object.directoryScopeId),
  };
  const want = liveRoleAssignment(captured, progress.mapping);
  const live = (await roleAssignmentsOf(graph, want.principalId)).find(
    (x) => roleAssignmentKey(x) === roleAssignmentKey(want),
  );
  if (live) {
    return {
      ...base,
      ...(live.id !== o.id ? { liveId: live.id } : {}),
      outcome: o.action === 'unchanged' ? 'unchanged' : 'restored',
    };
  }
  return {
    ...base,
    outcome: 'failed',
    error:
      progress.failures[`roleAssignment:create:${roleAssignmentKey(captured)}`] ??
      'the principal does not hold this role at this scope after the restore',
  };
}

/** An application's federated identity credentials read back: every captured one by name, equal; none other. */
async function verifyCredentials(
  graph: RestoreGraph,
  captured: readonly FederatedCredential[],
  appId: string,
  failure: string | undefined,
): Promise<{ restorable: number; restored: number; differences: Difference[] }> {
  const live = (
    await graph.readAll<Record<string, unknown>>(
      `/applications/${encodeURIComponent(appId)}/federatedIdentityCredentials`,
    )
  ).map(credentialOf);
  const lacking = captured.filter((w) => !live.some((n) => sameCredential(n, w)));
  const extra = live.filter((n) => !captured.some((w) => w.name === n.name)).map((n) => n.name);
  const differences: Difference[] = [];
  if (lacking.length)
    differences.push({
      name: 'federatedIdentityCredentials',
      expected: lacking,
      actual: live.filter((n) => lacking.some((w) => w.name === n.name)),
      why: failure ?? 'not among the application’s federated identity credentials as captured',
    });
  if (extra.length)
    differences.push({
      name: 'federatedIdentityCredentials',
      expected: null,
      actual: extra,
      why: 'credentials the snapshot does not hold are still on the application',
    });
  return { restorable: captured.length, restored: captured.length - lacking.length, differences };
}

/**
 * Memberships in parents outside the request and app-role assignments of one requested object, read back: each
 * planned member add must show the member (by its new id when re-created) in the parent's members, each planned
 * assignment must be on its resource. An assignment is reported on its principal when the principal was requested,
 * otherwise on its resource.
 */
async function verifyRelated(
  graph: RestoreGraph,
  plan: RestorePlan,
  progress: RestoreProgress,
  id: string,
  liveId: string,
  cache: ReadCache,
): Promise<{ restorable: number; restored: number; differences: Difference[] }> {
  const differences: Difference[] = [];
  let restorable = 0;
  let restored = 0;
  const gone = new Set(progress.missing[id]?.memberOf ?? []);
  const lacking: string[] = [];
  for (const m of plan.memberships.filter((x) => x.add.includes(id) && !gone.has(x.id))) {
    let members = cache.members.get(m.id);
    if (!members) {
      members = graph.relationshipIds(m.type, 'members', m.id).then((ids) => new Set(ids));
      cache.members.set(m.id, members);
    }
    restorable++;
    if ((await members).has(liveId)) restored++;
    else lacking.push(m.id);
  }
  if (lacking.length) {
    differences.push({
      name: 'memberOf',
      expected: lacking,
      actual: null,
      why: 'not among the members of these parents',
    });
  }
  const missingParents = [
    ...gone,
    ...(plan.objects.find((o) => o.id === id)?.relationships ?? [])
      .filter((r) => r.name === 'memberOf')
      .flatMap((r) => r.missing),
  ];
  if (missingParents.length) {
    differences.push({
      name: 'memberOf',
      expected: missingParents,
      actual: null,
      why: 'these groups or administrative units no longer exist and were not part of this restore',
    });
  }
  const requested = new Set(plan.objects.map((o) => o.id));
  const mine = plan.appRoleAssignments.filter((a) =>
    requested.has(a.principalId) ? a.principalId === id : a.resourceId === id,
  );
  const notBack: { appRoleId: string; resourceId: string; principalId: string }[] = [];
  let why = 'not among the assignments of the resource';
  for (const a of mine) {
    const mapped = {
      principalId: progress.mapping[a.principalId] ?? a.principalId,
      resourceId: progress.mapping[a.resourceId] ?? a.resourceId,
      appRoleId: a.appRoleId,
    };
    let have = cache.assignedTo.get(mapped.resourceId);
    if (!have) {
      have = graph
        .appRoleAssignedTo(mapped.resourceId)
        .then((list) => new Set(list.map(assignmentKey)))
        .catch(() => new Set<string>());
      cache.assignedTo.set(mapped.resourceId, have);
    }
    restorable++;
    if ((await have).has(assignmentKey(mapped))) restored++;
    else {
      notBack.push(mapped);
      why = progress.failures[`assignment:${assignmentKey(a)}`] ?? why;
    }
  }
  if (notBack.length) differences.push({ name: 'appRoleAssignments', expected: notBack, actual: null, why });

  // A grant is reported on its client when requested, else on its resource, else on its principal.
  const owner = (g: RestorePlan['oauth2PermissionGrants'][number]) =>
    [g.clientId, g.resourceId, g.principalId].find((x) => x && requested.has(x));
  const grants = plan.oauth2PermissionGrants.filter((g) => owner(g) === id);
  if (grants.length) {
    cache.grants ??= graph
      .readAll<CapturedGrant>('/oauth2PermissionGrants')
      .then((list) => new Map(list.map((g) => [grantKey(g), g.scope])));
    const live = await cache.grants;
    const lackingGrants: CapturedGrant[] = [];
    let grantWhy = 'no grant with this scope for the client, resource and principal';
    for (const g of grants) {
      const mapped = liveGrant(g, progress.mapping);
      restorable++;
      const key = grantKey(mapped);
      if (live.has(key) && sameScope(live.get(key), g.scope)) restored++;
      else {
        lackingGrants.push(mapped);
        grantWhy = progress.failures[`grant:${grantKey(g)}`] ?? grantWhy;
      }
    }
    if (lackingGrants.length)
      differences.push({ name: 'oauth2PermissionGrants', expected: lackingGrants, actual: null, why: grantWhy });
  }
  // A role assignment is reported on its principal when requested, else on the administrative unit it is scoped to.
  const roleOwner = (a: { principalId: string; directoryScopeId: string }) =>
    requested.has(a.principalId) ? a.principalId : scopeUnit(a.directoryScopeId);
  const roles = (plan.roleAssignments ?? []).filter((a) => roleOwner(a) === id);
  if (roles.length) {
    cache.roleAssignments ??= new Map();
    const lackingRoles: unknown[] = [];
    const leftRoles: unknown[] = [];
    let roleWhy = 'not among the role assignments of the principal';
    for (const a of roles) {
      const mapped = liveRoleAssignment(a, progress.mapping);
      let have = cache.roleAssignments.get(mapped.principalId);
      if (!have) {
        have = roleAssignmentsOf(graph, mapped.principalId).then((list) => new Set(list.map(roleAssignmentKey)));
        cache.roleAssignments.set(mapped.principalId, have);
      }
      const present = (await have).has(roleAssignmentKey(mapped));
      restorable++;
      const { principalId, roleDefinitionId, directoryScopeId } = mapped;
      if (present === (a.action === 'create')) restored++;
      else {
        (a.action === 'create' ? lackingRoles : leftRoles).push({ principalId, roleDefinitionId, directoryScopeId });
        roleWhy = progress.failures[`roleAssignment:${a.action}:${roleAssignmentKey(a)}`] ?? roleWhy;
      }
    }
    if (lackingRoles.length)
      differences.push({ name: 'roleAssignments', expected: lackingRoles, actual: null, why: roleWhy });
    if (leftRoles.length)
      differences.push({
        name: 'roleAssignments',
        expected: null,
        actual: leftRoles,
        why: 'role assignments the snapshot does not hold are still there',
      });
  }
  // A scoped role membership is reported on its AU when requested, else on its member.
  const scoped = (plan.scopedRoleMembers ?? []).filter(
    (m) => (requested.has(m.administrativeUnitId) ? m.administrativeUnitId : m.memberId) === id,
  );
  if (scoped.length) {
    cache.scopedRoleMembers ??= new Map();
    const lackingScoped: unknown[] = [];
    const leftScoped: unknown[] = [];
    let scopedWhy = 'not among the scoped role members of the administrative unit';
    for (const m of scoped) {
      const mapped = {
        administrativeUnitId: progress.mapping[m.administrativeUnitId] ?? m.administrativeUnitId,
        roleId: m.roleId,
        memberId: progress.mapping[m.memberId] ?? m.memberId,
      };
      let have = cache.scopedRoleMembers.get(mapped.administrativeUnitId);
      if (!have) {
        have = scopedRoleMembersOf(graph, mapped.administrativeUnitId)
          .then((list) => new Set(list.map(scopedRoleMemberKey)))
          .catch(() => new Set<string>());
        cache.scopedRoleMembers.set(mapped.administrativeUnitId, have);
      }
      restorable++;
      if ((await have).has(scopedRoleMemberKey(mapped)) === (m.action === 'create')) restored++;
      else {
        (m.action === 'create' ? lackingScoped : leftScoped).push(mapped);
        scopedWhy = progress.failures[`scopedRoleMember:${m.action}:${scopedRoleMemberKey(m)}`] ?? scopedWhy;
      }
    }
    if (lackingScoped.length)
      differences.push({ name: 'scopedRoleMembers', expected: lackingScoped, actual: null, why: scopedWhy });
    if (leftScoped.length)
      differences.push({
        name: 'scopedRoleMembers',
        expected: null,
        actual: leftScoped,
        why: 'scoped role members the snapshot does not hold are still there',
      });
  }
  return { restorable, restored, differences };
}
