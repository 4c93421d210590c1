import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';
import { confirmRestoreUpdate, restoreStateQuery, restoreWorkflow, type RestoreWorkflowInput } from '../../workflows';
import type { PlanCounts } from '../../restore/types';
import { eventually, workflowTestWorker } from '../helpers/workflow-env';

const counts: PlanCounts = {
  objects: 1,
  unchanged: 0,
  update: 1,
  restoreFromRecycleBin: 0,
  recreate: 0,
  impossible: 0,
  attributeChanges: 1,
  relationshipChanges: 0,
  memberships: 0,
  appRoleAssignments: 0,
  oauth2PermissionGrants: 0,
};

/** An activity that runs until it is cancelled (heartbeating, so the cancellation reaches it). */
async function untilCancelled(): Promise<never> {
  for (;;) {
    Context.current().heartbeat();
    await Context.current().sleep(50);
  }
}

// A restore cancelled through Temporal (an operator in the Web UI, a terminated parent) ends as `cancelled` with how
// far it got, not as `failed`: before the confirmation nothing was written, after it the writes made stay.
describe('restoreWorkflow cancelled (mocked activities)', function () {
  const blockIn = new Map<string, 'planRestore' | 'applyRestoreStage'>();
  const countsOf = new Map<string, PlanCounts>();
  const stagesOf = new Map<string, string[][]>();

  const activities: Partial<Activities> = {
    restoreConsentOf: async () => ({ state: 'granted', mode: 'permanent' }),
    planRestore: async (input) =>
      blockIn.get(input.tenantId) === 'planRestore'
        ? untilCancelled()
        : { key: 'plan', hash: 'h1', counts: countsOf.get(input.tenantId) ?? counts },
    applyRestoreStage: async (input) => {
      if (blockIn.get(input.tenantId) === 'applyRestoreStage') await untilCancelled();
      stagesOf.set(input.tenantId, [...(stagesOf.get(input.tenantId) ?? []), input.types]);
      return { writes: 0 };
    },
    verifyRestore: async () => ({
      key: 'report',
      restored: 1,
      partlyRestored: 0,
      failed: 0,
      unchanged: 0,
      fidelity: { restorable: 1, restored: 1 },
      writeRequests: 1,
    }),
  };

  const wf = workflowTestWorker(activities);

  const start = (tenantId: string) => {
    const input: RestoreWorkflowInput = {
      tenantId,
      resellerId: 'rsl',
      directory: 'contoso.example',
      snapshotId: 'snap',
      objects: [{ type: 'users', id: 'u1' }],
      conditionalAccessState: 'report-only',
      requestedBy: 'reseller:rsl',
      confirmationTimeoutMs: 60_000,
      consentTimeoutMs: 60_000,
      storage: { bucket: 'b', prefix: 'p/', region: 'local' },
      startedAt: new Date().toISOString(),
    };
    return wf.client.workflow.start(restoreWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `restore:${tenantId}`,
      args: [input],
      searchAttributes: { JobKind: ['restore'] },
    });
  };
  const jobStatus = async (handle: WorkflowHandle) =>
    (await handle.describe()).searchAttributes.JobStatus?.[0] as string | undefined;
  const pending = (handle: WorkflowHandle, activity: string) =>
    eventually(activity, async () =>
      (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === activity)
        ? true
        : undefined,
    );

  it('while planning: cancelled, nothing was written', async () => {
    const tenantId = randomUUID();
    blockIn.set(tenantId, 'planRestore');
    const handle = await start(tenantId);
    await pending(handle, 'planRestore');
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.equal(await jobStatus(handle), 'cancelled');
    const state = await handle.query(restoreStateQuery);
    assert.equal(state.status, 'cancelled');
    assert.match(state.detail ?? '', /while planning: nothing was written/);
    assert.ok(state.finishedAt);
  });

  it('while applying the confirmed plan: cancelled, and it says what was written stays', async () => {
    const tenantId = randomUUID();
    blockIn.set(tenantId, 'applyRestoreStage');
    const handle = await start(tenantId);
    await eventually('the plan', async () =>
      (await handle.query(restoreStateQuery)).status === 'awaiting-confirmation' ? true : undefined,
    );
    await handle.executeUpdate(confirmRestoreUpdate, { args: [{ planHash: 'h1', confirmedBy: 'reseller:rsl' }] });
    await pending(handle, 'applyRestoreStage');
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal(await jobStatus(handle), 'cancelled');
    const state = await handle.query(restoreStateQuery);
    assert.equal(state.status, 'cancelled');
    assert.match(state.detail ?? '', /while applying: what was written before stays written/);
  });

  it('runs the directory role stage when the plan counts role assignments or scoped role members (patched)', async () => {
    const run = async (extra: Partial<PlanCounts>) => {
      const tenantId = randomUUID();
      countsOf.set(tenantId, { ...counts, ...extra });
      const handle = await start(tenantId);
      await eventually('the plan', async () =>
        (await handle.query(restoreStateQuery)).status === 'awaiting-confirmation' ? true : undefined,
      );
      await handle.executeUpdate(confirmRestoreUpdate, { args: [{ planHash: 'h1', confirmedBy: 'reseller:rsl' }] });
      assert.equal((await handle.result()).status, 'completed');
      const history = await handle.fetchHistory();
      const markers = (history.events ?? []).filter(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch',
      );
      return { stages: stagesOf.get(tenantId) ?? [], markers: markers.length };
    };
    const none = await run({});
    assert.ok(!none.stages.some((t) => t.includes('roleAssignments')), 'no role stage without role changes');
    const roles = await run({ roleAssignments: 2 });
    assert.ok(
      roles.stages.some((t) => t.includes('roleAssignments')),
      JSON.stringify(roles.stages),
    );
    assert.ok(roles.markers > none.markers, 'behind a patch marker');
    const scoped = await run({ scopedRoleMembers: 1 });
    assert.ok(
      scoped.stages.some((t) => t.includes('roleAssignments')),
      JSON.stringify(scoped.stages),
    );
  });
});
