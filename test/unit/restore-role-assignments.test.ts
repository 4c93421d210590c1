import assert from 'node:assert/strict';
import { computePlan, liveRoleAssignment, type CapturedObject } from '../../activities/restore/plan';
import type { RestoreGraph } from '../../activities/restore/restore-graph';

/** A tenant read through a fake Graph: live objects by id and live role assignments, nothing else. */
function fakeGraph(live: Record<string, Record<string, unknown>>, assignments: Record<string, string>[]): RestoreGraph {
  return {
    readLive: async (_type: string, id: string) => live[id] ?? null,
    relationshipIds: async () => [],
    getOrNull: async () => null,
    idsWhere: async () => [],
    appRoleAssignedTo: async () => [],
    readAll: async (path: string) =>
      path.startsWith('/roleManagement/directory/roleAssignments')
        ? assignments.filter((a) => path.includes(encodeURIComponent(a.principalId)))
        : [],
  } as unknown as RestoreGraph;
}

const header = {
  restoreId: 'r',
  tenantId: 't',
  snapshotId: 's',
  createdAt: '2026-01-01T00:00:00Z',
  conditionalAccessState: 'report-only' as const,
};
const user: CapturedObject = {
  type: 'users',
  id: 'u1',
  displayName: 'Ada',
  object: { id: 'u1', displayName: 'Ada', userPrincipalName: 'ada@contoso.example' },
  relationships: {},
};
const roleA = { principalId: 'u1', roleDefinitionId: 'role-a', directoryScopeId: '/' };
const roleB = { principalId: 'u1', roleDefinitionId: 'role-b', directoryScopeId: '/administrativeUnits/au1' };

describe('restore: directory role assignments in the plan', () => {
  it('creates a captured one the live principal lacks and removes one added since', async () => {
    const graph = fakeGraph({ u1: user.object }, [{ id: 'live-b', ...roleB }]);
    const plan = await computePlan(graph, [user], header, {
      memberships: [],
      assignments: [],
      roleAssignments: [roleA],
      roleAssignmentsCaptured: true,
    });
    assert.deepEqual(plan.roleAssignments, [
      { action: 'create', ...roleA },
      { action: 'remove', ...roleB, liveId: 'live-b' },
    ]);
  });

  it('removes nothing when the snapshot holds no role assignments at all (not captured)', async () => {
    const graph = fakeGraph({ u1: user.object }, [{ id: 'live-b', ...roleB }]);
    const plan = await computePlan(graph, [user], header, {
      memberships: [],
      assignments: [],
      roleAssignments: [],
      roleAssignmentsCaptured: false,
    });
    assert.equal(plan.roleAssignments, undefined, 'and the plan (and its hash) has no roleAssignments key');
  });

  it('skips one the tenant still holds, and plans all of a re-created principal by snapshot ids', async () => {
    const held = await computePlan(fakeGraph({ u1: user.object }, [{ id: 'live-a', ...roleA }]), [user], header, {
      memberships: [],
      assignments: [],
      roleAssignments: [roleA],
      roleAssignmentsCaptured: true,
    });
    assert.equal(held.roleAssignments, undefined);
    assert.equal(held.objects[0].action, 'unchanged');
    const gone = await computePlan(fakeGraph({ au1: { id: 'au1' } }, []), [user], header, {
      memberships: [],
      assignments: [],
      roleAssignments: [roleA, roleB],
      roleAssignmentsCaptured: true,
    });
    assert.equal(gone.objects[0].action, 'recreate');
    assert.deepEqual(gone.roleAssignments, [
      { action: 'create', ...roleA },
      { action: 'create', ...roleB },
    ]);
  });

  it('drops one whose AU scope is gone and not restored', async () => {
    const plan = await computePlan(fakeGraph({ u1: user.object }, []), [user], header, {
      memberships: [],
      assignments: [],
      roleAssignments: [roleA, roleB],
      roleAssignmentsCaptured: true,
    });
    assert.deepEqual(plan.roleAssignments, [{ action: 'create', ...roleA }]);
  });

  it('remaps the principal and an AU scope to the new ids of re-created objects', () => {
    assert.deepEqual(liveRoleAssignment(roleB, { u1: 'u9', au1: 'au9' }), {
      principalId: 'u9',
      roleDefinitionId: 'role-b',
      directoryScopeId: '/administrativeUnits/au9',
    });
    assert.deepEqual(liveRoleAssignment(roleA, { au1: 'au9' }), roleA);
  });
});
