import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';
import { authFailure } from '../../activities/graph/auth-failure';
import { retentionWorkflow, tenantBackupWorkflow, tenantQuery, tenantWorkflow } from '../../workflows';
import type { BackupTarget, TenantRecord } from '../../tenants/types';
import { eventually, workflowTestWorker } from '../helpers/workflow-env';

type Behaviour = Partial<Pick<Activities, 'checkTenantAccess' | 'captureType' | 'commitSnapshot'>>;

const graph = { requests: 1, resourceUnits: 1, throttled: 0, throttleWaitMs: 0, graphMs: 1 };

// The backup workflow's paths with mocked activities, beside a real tenant workflow: success, an outage that outlasts
// every retry of the access check (the tenant stays Active, its schedule running), consent revoked (only then
// reauthorization), a commit that fails, cancellation. Each ends with a true JobStatus.
describe('tenantBackupWorkflow (mocked activities)', function () {
  const behaviours = new Map<string, Behaviour>();
  const calls: { name: string; directory: string }[] = [];
  const of = (directory: string) => behaviours.get(directory) ?? {};

  const activities: Partial<Activities> = {
    checkTenantAccess: async (input) => {
      calls.push({ name: 'checkTenantAccess', directory: input.directory });
      const b = of(input.directory).checkTenantAccess;
      return b ? b(input) : { microsoftTenantId: input.directory, missingRoles: [] };
    },
    decideBackupSettings: async () => ({ typeConcurrency: 2, types: ['users', 'groups', 'applications'] }),
    captureType: async (input) => {
      calls.push({ name: `captureType:${input.type}`, directory: input.job.directory });
      const b = of(input.job.directory).captureType;
      if (b) return b(input);
      return {
        type: input.type,
        status: 'captured',
        readMode: 'full',
        count: 3,
        softDeleted: 0,
        objectsRead: 3,
        storageMs: 1,
        manifest: `m-${input.type}`,
        blobsAdded: 3,
        bytesWritten: 100,
        graph,
      };
    },
    commitSnapshot: async (input) => {
      const b = of(input.target.directory).commitSnapshot;
      if (b) return b(input);
      return { snapshotId: 'snap-1', objects: 9, skippedTypes: input.failed.map((f) => f.type) };
    },
    applyRetention: async (input) => {
      if (input.tenantId === 'retention-refused') {
        throw ApplicationFailure.nonRetryable('storage refused the listing', 'StorageFailed');
      }
      return { forgotten: 0, kept: 1, packsDeleted: 0, bytesFreed: 0 };
    },
    setBackupSchedulePaused: async (input) =>
      void calls.push({ name: 'setBackupSchedulePaused', directory: input.tenantId }),
  };

  const wf = workflowTestWorker(activities);

  /** An Active tenant (its workflow started with an Active record) and what a backup of it needs. */
  async function activeTenant(behaviour: Behaviour = {}) {
    const tenantId = randomUUID();
    const target: BackupTarget = {
      tenantId,
      resellerId: 'rsl-test',
      organizationId: 'org-test',
      directory: `${tenantId.slice(0, 8)}.example.com`,
      storage: { bucket: 'b', prefix: `t/${tenantId}`, region: 'local' },
    };
    behaviours.set(target.directory, behaviour);
    const createdAt = new Date().toISOString();
    const record: TenantRecord = {
      ...target,
      plan: 'backup',
      backupImmediately: false,
      status: 'active',
      backupApp: { state: 'granted' },
      restoreApp: { state: 'not-requested', mode: 'none' },
      scheduleId: `tenant-backup:${tenantId}`,
      schedulePaused: false,
      createdAt,
    };
    const tenant = await wf.client.workflow.start(tenantWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `tenant:${tenantId}`,
      args: [
        {
          tenant: { ...target, plan: 'backup', backupImmediately: false, consentTimeoutMs: 60_000, createdAt },
          carried: { record, pending: [], firstBackupTriggered: true },
        },
      ],
    });
    return { target, tenant };
  }

  const startBackup = (target: BackupTarget) =>
    wf.client.workflow.start(tenantBackupWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { accessCheckRetry: { initialInterval: '10 ms', maximumInterval: '10 ms', maximumAttempts: 3 } }],
      searchAttributes: { TenantId: [target.tenantId], ResellerId: [target.resellerId], JobKind: ['backup'] },
    });

  const jobStatus = async (handle: WorkflowHandle) =>
    (await handle.describe()).searchAttributes.JobStatus?.[0] as string | undefined;
  const memoReason = async (handle: WorkflowHandle) => (await handle.describe()).memo?.reason as string | undefined;
  const tenantAfter = (tenant: WorkflowHandle, what: string, test: (t: TenantRecord) => boolean) =>
    eventually(what, async () => {
      const t = await tenant.query(tenantQuery);
      return test(t) ? t : undefined;
    });

  it('captures every decided type, commits, tells the tenant and starts retention: JobStatus completed', async () => {
    const { target, tenant } = await activeTenant();
    const handle = await startBackup(target);
    const result = await handle.result();
    assert.deepEqual(result, { status: 'completed', snapshotId: 'snap-1', objects: 9, skippedTypes: [] });
    assert.deepEqual(
      calls
        .filter((c) => c.directory === target.directory && c.name.startsWith('captureType'))
        .map((c) => c.name)
        .sort(),
      ['captureType:applications', 'captureType:groups', 'captureType:users'],
    );
    assert.equal(await jobStatus(handle), 'completed');
    const t = await tenantAfter(tenant, 'last backup', (t) => t.lastBackup?.status === 'completed');
    assert.equal(t.lastBackup?.snapshotId, 'snap-1');
    const retention = wf.client.workflow.getHandle(`retention:${target.tenantId}:${handle.workflowId}`);
    await retention.result();
    assert.equal(await jobStatus(retention), 'completed');
  });

  it('an outage that outlasts every retry of the access check fails the run with its reason; the tenant stays Active, its schedule running', async () => {
    const { target, tenant } = await activeTenant({
      checkTenantAccess: async () => {
        throw ApplicationFailure.retryable(
          'Microsoft Graph or the identity platform could not be reached: Graph answered 503',
          'TenantUnreachable',
        );
      },
    });
    const handle = await startBackup(target);
    await assert.rejects(
      handle.result(),
      (err: unknown) => err instanceof WorkflowFailedError && /503/.test(String(err.cause?.message)),
    );
    assert.equal(calls.filter((c) => c.directory === target.directory && c.name === 'checkTenantAccess').length, 3);
    assert.equal(await jobStatus(handle), 'failed');
    assert.match((await memoReason(handle)) ?? '', /could not be reached: Graph answered 503/);
    const t = await tenantAfter(tenant, 'failed backup recorded', (t) => t.lastBackup?.status === 'failed');
    assert.equal(t.status, 'active');
    assert.equal(t.schedulePaused, false);
    assert.equal(t.backupApp.state, 'granted');
    assert.match(t.lastBackup?.detail ?? '', /503/);
    assert.equal(
      calls.filter((c) => c.name === 'setBackupSchedulePaused' && c.directory === target.tenantId).length,
      0,
    );
  });

  it('consent revoked: the run ends as Reauthorization required and the tenant pauses its schedule', async () => {
    const { target, tenant } = await activeTenant({
      checkTenantAccess: async () => {
        throw authFailure('ConsentRevoked', 'the app is not authorized in this tenant (AADSTS7000229)');
      },
    });
    const handle = await startBackup(target);
    assert.equal((await handle.result()).status, 'reauthorization-required');
    assert.equal(calls.filter((c) => c.directory === target.directory && c.name === 'checkTenantAccess').length, 1);
    assert.equal(await jobStatus(handle), 'reauthorization-required');
    const t = await tenantAfter(
      tenant,
      'reauthorization required',
      (t) => t.status === 'reauthorization-required' && t.schedulePaused,
    );
    assert.equal(t.backupApp.state, 'revoked');
    assert.match(t.backupApp.reason ?? '', /AADSTS7000229/);
  });

  it('a type that fails for good is skipped and named; the snapshot is incomplete', async () => {
    const { target } = await activeTenant({
      captureType: async (input) => {
        if (input.type === 'groups') throw ApplicationFailure.nonRetryable('Graph answered 400', 'GraphRequestFailed');
        return { type: input.type, status: 'skipped', reason: 'feature-not-licensed', detail: 'no licence', graph };
      },
    });
    const handle = await startBackup(target);
    const result = await handle.result();
    assert.equal(result.status, 'incomplete');
    assert.ok(result.skippedTypes.includes('groups'));
    assert.equal(await jobStatus(handle), 'incomplete');
  });

  it('a commit that fails ends the run failed with its reason, not running; the tenant stays Active', async () => {
    const { target, tenant } = await activeTenant({
      commitSnapshot: async () => {
        throw ApplicationFailure.nonRetryable('storage answered 500 for the snapshot record', 'StorageFailed');
      },
    });
    const handle = await startBackup(target);
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.equal(await jobStatus(handle), 'failed');
    assert.match((await memoReason(handle)) ?? '', /storage answered 500/);
    const t = await tenantAfter(tenant, 'failed backup recorded', (t) => t.lastBackup?.status === 'failed');
    assert.equal(t.status, 'active');
    assert.match(t.lastBackup?.detail ?? '', /storage answered 500/);
  });

  it('a cancelled backup ends cancelled and the tenant learns it is over', async () => {
    const { target, tenant } = await activeTenant({
      captureType: async () => {
        for (;;) {
          Context.current().heartbeat();
          await Context.current().sleep(50);
        }
      },
    });
    const handle = await startBackup(target);
    await eventually('capturing', async () => ((await jobStatus(handle)) === 'capturing' ? true : undefined));
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.equal(await jobStatus(handle), 'cancelled');
    const t = await tenantAfter(tenant, 'told', (t) => t.lastBackup?.status === 'failed');
    assert.equal(t.status, 'active');
    assert.match(t.lastBackup?.detail ?? '', /cancelled/);
  });

  it('a retention run that fails ends failed with its reason, not running', async () => {
    const handle = await wf.client.workflow.start(retentionWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `retention:${randomUUID()}`,
      args: [
        { tenantId: 'retention-refused', resellerId: 'rsl-test', storage: { bucket: 'b', prefix: 'p', region: 'l' } },
      ],
    });
    await assert.rejects(handle.result(), WorkflowFailedError);
    assert.equal(await jobStatus(handle), 'failed');
    assert.match((await memoReason(handle)) ?? '', /storage refused the listing/);
  });
});
