import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import {
  authFailedSignal,
  backupFinishedSignal,
  backupNowUpdate,
  changePlanUpdate,
  consentCallbackUpdate,
  requestConsentUpdate,
  tenantQuery,
  tenantWorkflow,
} from '../../workflows';
import type { TenantRecord } from '../../tenants/types';
import { eventually, workflowTestWorker } from '../helpers/workflow-env';

// The tenant's state machine with mocked activities: consent granted / declined / expired / revoked, reauthorization,
// plan change, and backups that fail for other reasons than consent.
describe('tenantWorkflow (mocked activities)', function () {
  /** What the mocked activities were asked, per tenant. */
  const calls: { name: string; tenantId?: string; input: unknown }[] = [];
  /** What verifyConsent does for a directory (default: every role granted). */
  const verifyBehaviour = new Map<string, () => Promise<Awaited<ReturnType<Activities['verifyConsent']>>>>();

  const activities: Partial<Activities> = {
    prepareConsentRequest: async (input) => {
      calls.push({ name: 'prepareConsentRequest', tenantId: input.tenantId, input });
      return { consentUrl: `https://login.example/consent?nonce=${input.nonce}` };
    },
    verifyConsent: async (input) => {
      calls.push({ name: 'verifyConsent', input });
      const behaviour = verifyBehaviour.get(input.directory);
      if (behaviour) return behaviour();
      return { microsoftTenantId: input.directory, grantedRoles: ['User.Read.All'], missingRoles: [] };
    },
    ensureBackupSchedule: async (target) => {
      calls.push({ name: 'ensureBackupSchedule', tenantId: target.tenantId, input: target });
      return { scheduleId: `tenant-backup:${target.tenantId}` };
    },
    setBackupSchedulePaused: async (input) => {
      calls.push({ name: 'setBackupSchedulePaused', tenantId: input.tenantId, input });
    },
    triggerBackup: async (input) => {
      calls.push({ name: 'triggerBackup', tenantId: input.tenantId, input });
      return { workflowId: `backup:${input.tenantId}:1`, alreadyRunning: false };
    },
  };
  const callsOf = (tenantId: string, name: string) => calls.filter((c) => c.tenantId === tenantId && c.name === name);

  const wf = workflowTestWorker(activities);

  async function newTenant(
    options: {
      consentTimeoutMs?: number;
      backupImmediately?: boolean;
      backupsFailingAfterMs?: number;
      backupOverdue?: { everyMs: number; graceMs: number };
    } = {},
  ) {
    const tenantId = randomUUID();
    const directory = `${tenantId.slice(0, 8)}.example.com`;
    const handle = await wf.client.workflow.start(tenantWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `tenant:${tenantId}`,
      args: [
        {
          tenant: {
            tenantId,
            resellerId: 'rsl-test',
            organizationId: 'org-test',
            directory,
            storage: { bucket: 'b', prefix: `t/${tenantId}`, region: 'local' },
            plan: 'backup',
            backupImmediately: options.backupImmediately ?? false,
            consentTimeoutMs: options.consentTimeoutMs ?? 60_000,
            backupsFailingAfterMs: options.backupsFailingAfterMs,
            backupOverdue: options.backupOverdue,
            createdAt: new Date().toISOString(),
          },
        },
      ],
    });
    return { tenantId, directory, handle };
  }

  /** Asks for the Backup app's consent and answers it as Microsoft's redirect would. */
  async function answerConsent(
    handle: WorkflowHandle<typeof tenantWorkflow>,
    outcome: 'granted' | 'declined',
    error?: string,
  ) {
    const { consentUrl } = await handle.executeUpdate(requestConsentUpdate, { args: [{ app: 'backup' }] });
    const nonce = new URL(consentUrl).searchParams.get('nonce')!;
    await handle.executeUpdate(consentCallbackUpdate, { args: [{ app: 'backup', nonce, outcome, error }] });
    return nonce;
  }

  const until = (handle: WorkflowHandle, what: string, test: (t: TenantRecord) => boolean) =>
    eventually(what, async () => {
      const t = await handle.query(tenantQuery);
      return test(t) ? t : undefined;
    });

  async function activeTenant(options: Parameters<typeof newTenant>[0] = {}) {
    const tenant = await newTenant(options);
    await answerConsent(tenant.handle, 'granted');
    await until(tenant.handle, 'active', (t) => t.status === 'active');
    return tenant;
  }

  const jobStatus = async (handle: WorkflowHandle) =>
    (await handle.describe()).searchAttributes.JobStatus?.[0] as string | undefined;

  it('consent granted: verified, schedule created, first backup triggered, JobStatus active', async () => {
    const { tenantId, handle } = await newTenant({ backupImmediately: true });
    assert.equal((await handle.query(tenantQuery)).status, 'awaiting-consent');
    await answerConsent(handle, 'granted');
    // Activation sets the status before it triggers the first backup: wait for both.
    const t = await until(handle, 'active', (t) => t.status === 'active' && t.lastBackup !== undefined);
    assert.equal(t.backupApp.state, 'granted');
    assert.equal(t.scheduleId, `tenant-backup:${tenantId}`);
    assert.equal(callsOf(tenantId, 'ensureBackupSchedule').length, 1);
    assert.equal(callsOf(tenantId, 'triggerBackup').length, 1);
    assert.equal(t.lastBackup?.status, 'running');
    await eventually('JobStatus active', async () => ((await jobStatus(handle)) === 'active' ? true : undefined));
  });

  it('consent declined: recorded with the reason, the tenant keeps waiting and gets no schedule', async () => {
    const { tenantId, handle } = await newTenant();
    await answerConsent(handle, 'declined', 'access_denied');
    const t = await until(handle, 'declined', (t) => t.backupApp.state === 'declined');
    assert.equal(t.status, 'awaiting-consent');
    assert.equal(t.backupApp.reason, 'access_denied');
    assert.equal(callsOf(tenantId, 'ensureBackupSchedule').length, 0);
  });

  it('consent expired: the request shows expired and its late answer is refused', async () => {
    const { handle } = await newTenant({ consentTimeoutMs: 1_000 });
    const { consentUrl } = await handle.executeUpdate(requestConsentUpdate, { args: [{ app: 'backup' }] });
    const t = await until(handle, 'expired', (t) => t.backupApp.state === 'expired');
    assert.equal(t.status, 'awaiting-consent');
    const nonce = new URL(consentUrl).searchParams.get('nonce')!;
    await assert.rejects(
      handle.executeUpdate(consentCallbackUpdate, { args: [{ app: 'backup', nonce, outcome: 'granted' }] }),
      (err: unknown) => err instanceof WorkflowUpdateFailedError && /expired/.test(String(err.cause?.message)),
    );
  });

  it('consent revoked (a backup reports ConsentRevoked): Reauthorization required, schedule paused; consent again: active', async () => {
    const { tenantId, handle } = await activeTenant();
    await handle.signal(authFailedSignal, {
      kind: 'ConsentRevoked',
      reason: 'the app is not authorized in this tenant (AADSTS7000229)',
      backupWorkflowId: 'backup:x',
    });
    const t = await until(
      handle,
      'reauthorization required',
      (t) => t.status === 'reauthorization-required' && t.schedulePaused,
    );
    assert.equal(t.schedulePaused, true);
    assert.equal(t.backupApp.state, 'revoked');
    assert.deepEqual(
      callsOf(tenantId, 'setBackupSchedulePaused').map((c) => (c.input as { paused: boolean }).paused),
      [true],
    );
    await assert.rejects(handle.executeUpdate(backupNowUpdate), WorkflowUpdateFailedError);
    await eventually('JobStatus', async () =>
      (await jobStatus(handle)) === 'reauthorization-required' ? true : undefined,
    );

    await answerConsent(handle, 'granted');
    const back = await until(handle, 'active again', (t) => t.status === 'active' && !t.schedulePaused);
    assert.equal(back.backupApp.state, 'granted');
    assert.deepEqual(
      callsOf(tenantId, 'setBackupSchedulePaused').map((c) => (c.input as { paused: boolean }).paused),
      [true, false],
    );
  });

  it('a consent granted without every permission requires reauthorization; one that cannot be verified for an outage changes nothing', async () => {
    const partial = await newTenant();
    verifyBehaviour.set(partial.directory, async () => ({
      grantedRoles: ['User.Read.All'],
      missingRoles: ['Group.Read.All'],
    }));
    await answerConsent(partial.handle, 'granted');
    const t = await until(partial.handle, 'revoked', (t) => t.backupApp.state === 'revoked');
    assert.match(t.backupApp.reason ?? '', /Group\.Read\.All/);
    assert.equal(t.status, 'awaiting-consent');

    const { handle, directory, tenantId } = await activeTenant();
    verifyBehaviour.set(directory, async () => {
      throw ApplicationFailure.nonRetryable('Graph answered 503', 'GraphUnavailable');
    });
    await answerConsent(handle, 'granted');
    const after = await until(handle, 'unverified', (t) => t.backupApp.state === 'unverified');
    assert.equal(after.status, 'active');
    assert.equal(after.schedulePaused, false);
    assert.match(after.backupApp.reason ?? '', /503/);
    assert.equal(callsOf(tenantId, 'setBackupSchedulePaused').length, 0);
  });

  it('changes the plan to Archiver and refuses to downgrade it', async () => {
    const { handle } = await newTenant();
    assert.equal((await handle.executeUpdate(changePlanUpdate, { args: [{ plan: 'archiver' }] })).plan, 'archiver');
    await assert.rejects(
      handle.executeUpdate(changePlanUpdate, { args: [{ plan: 'backup' }] }),
      (err: unknown) => err instanceof WorkflowUpdateFailedError && /downgraded/.test(String(err.cause?.message)),
    );
    assert.equal((await handle.query(tenantQuery)).plan, 'archiver');
  });

  it('failed backups (not consent) keep the tenant Active and its schedule running; past the threshold: Backups failing; a good one: Active', async () => {
    const { tenantId, handle } = await activeTenant({ backupsFailingAfterMs: 1_500 });
    const failed = (n: number) =>
      handle.signal(backupFinishedSignal, {
        workflowId: `backup:${tenantId}:${n}`,
        status: 'failed',
        at: new Date().toISOString(),
        detail: 'the tenant could not be checked: Graph answered 503',
      });
    await failed(1);
    let t = await until(handle, 'failure recorded', (t) => t.lastBackup?.status === 'failed');
    assert.equal(t.status, 'active');
    assert.ok(t.backupsFailingSince);
    assert.match(t.lastBackup?.detail ?? '', /503/);
    // A report from a backup of an older version that took an outage for a consent problem changes nothing either.
    await handle.signal(authFailedSignal, { kind: 'Error', reason: 'Graph answered 503', backupWorkflowId: 'old' });

    await new Promise((r) => setTimeout(r, 1_600));
    await failed(2);
    t = await until(handle, 'backups failing', (t) => t.status === 'backups-failing');
    assert.equal(t.schedulePaused, false);
    assert.equal(callsOf(tenantId, 'setBackupSchedulePaused').length, 0);
    await eventually('JobStatus', async () => ((await jobStatus(handle)) === 'backups-failing' ? true : undefined));
    // Backup now still works while backups fail.
    assert.equal((await handle.executeUpdate(backupNowUpdate)).alreadyRunning, false);

    await handle.signal(backupFinishedSignal, {
      workflowId: `backup:${tenantId}:3`,
      status: 'completed',
      at: new Date().toISOString(),
      snapshotId: 's',
    });
    t = await until(handle, 'active again', (t) => t.status === 'active');
    assert.equal(t.backupsFailingSince, undefined);
  });

  it('backups that stop reporting back at all (stuck, never started) count as failing from when one was due: Backups failing past the threshold; a good one: Active', async () => {
    // Scaled down from a day's interval, 12 h of grace and 48 h: due 1.5 s after the last report, overdue 1 s later.
    const backupOverdue = { everyMs: 1_500, graceMs: 1_000 };
    const { tenantId, handle } = await activeTenant({ backupsFailingAfterMs: 3_000, backupOverdue });
    const lastAt = new Date().toISOString();
    await handle.signal(backupFinishedSignal, {
      workflowId: `backup:${tenantId}:1`,
      status: 'completed',
      at: lastAt,
      snapshotId: 's1',
    });
    // Nothing reports back after it. No backup's end can tell the tenant: its own timer must.
    let t = await until(handle, 'the missed backup noticed', (t) => t.backupsFailingSince !== undefined);
    assert.equal(t.backupsFailingSince, new Date(Date.parse(lastAt) + backupOverdue.everyMs).toISOString());
    assert.equal(t.status, 'active', 'not before the missed runs outlast the threshold');
    t = await until(handle, 'backups failing', (t) => t.status === 'backups-failing');
    assert.ok(Date.now() >= Date.parse(lastAt) + backupOverdue.everyMs + 3_000, 'flagged once the threshold passed');
    assert.equal(t.lastBackup?.snapshotId, 's1');
    assert.equal(t.schedulePaused, false);
    assert.equal(callsOf(tenantId, 'setBackupSchedulePaused').length, 0);
    await eventually('JobStatus', async () => ((await jobStatus(handle)) === 'backups-failing' ? true : undefined));

    const againAt = new Date().toISOString();
    await handle.signal(backupFinishedSignal, {
      workflowId: `backup:${tenantId}:2`,
      status: 'completed',
      at: againAt,
      snapshotId: 's2',
    });
    t = await until(handle, 'active again', (t) => t.status === 'active');
    assert.equal(t.backupsFailingSince, undefined);
    // The timer runs again from the newest report.
    t = await until(handle, 'the next missed backup noticed', (t) => t.backupsFailingSince !== undefined);
    assert.equal(t.backupsFailingSince, new Date(Date.parse(againAt) + backupOverdue.everyMs).toISOString());
  });

  it('a tenant that never had a backup counts from its consent; one awaiting consent or reauthorization is never flagged', async () => {
    const backupOverdue = { everyMs: 500, graceMs: 500 };
    const { handle } = await activeTenant({ backupsFailingAfterMs: 500, backupOverdue });
    const t = await until(handle, 'backups failing', (t) => t.status === 'backups-failing');
    assert.equal(t.lastBackup, undefined);
    assert.equal(t.backupsFailingSince, new Date(Date.parse(t.backupApp.grantedAt!) + 500).toISOString());

    const waiting = await newTenant({ backupsFailingAfterMs: 500, backupOverdue });
    const revoked = await activeTenant({ backupsFailingAfterMs: 500, backupOverdue: { everyMs: 2_000, graceMs: 0 } });
    await revoked.handle.signal(authFailedSignal, {
      kind: 'ConsentRevoked',
      reason: 'the app is not authorized in this tenant (AADSTS7000229)',
      backupWorkflowId: 'backup:y',
    });
    await until(revoked.handle, 'reauthorization required', (t) => t.status === 'reauthorization-required');
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal((await waiting.handle.query(tenantQuery)).status, 'awaiting-consent');
    const r = await revoked.handle.query(tenantQuery);
    assert.equal(r.status, 'reauthorization-required');
    assert.equal(r.backupsFailingSince, undefined);
  });

  it('ends cancelled with a final JobStatus when cancelled', async () => {
    const { handle } = await newTenant();
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.equal(await jobStatus(handle), 'cancelled');
  });
});
