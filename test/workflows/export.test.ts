import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';
import { exportProgressQuery, exportWorkflow } from '../../workflows';
import type { ExportRequest, ExportResult } from '../../exports/types';
import { eventually, workflowTestWorker } from '../helpers/workflow-env';

// The export workflow's final states with mocked activities: completed, failed with the activity's reason, and
// cancelled (not "failed") when the job is cancelled mid-build. Each sets JobStatus for System Status.
describe('exportWorkflow (mocked activities)', function () {
  const builds = new Map<string, () => Promise<ExportResult>>();

  const activities: Partial<Activities> = {
    ensureExportLifecycle: async () => ({ applied: true }),
    deleteExportObjects: async () => ({ deleted: 0 }),
    buildExport: async (req) => builds.get(req.exportId)!(),
  };

  const wf = workflowTestWorker(activities);

  const start = (build: () => Promise<ExportResult>) => {
    const exportId = randomUUID();
    builds.set(exportId, build);
    const req: ExportRequest = {
      exportId,
      tenantId: randomUUID(),
      resellerId: 'rsl',
      directory: 'contoso.example',
      storage: { bucket: 'b', prefix: 'p/', region: 'local' },
      snapshotId: 'snap',
      level: 'tenant',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      heartbeatTimeoutMs: 2_000,
    };
    return wf.client.workflow.start(exportWorkflow, {
      taskQueue: wf.taskQueue,
      workflowId: `export:${req.tenantId}:${exportId}`,
      args: [req],
      searchAttributes: { JobKind: ['export'] },
    });
  };
  const jobStatus = async (handle: WorkflowHandle) =>
    (await handle.describe()).searchAttributes.JobStatus?.[0] as string | undefined;

  it('ends completed with its counts', async () => {
    const handle = await start(async () => ({
      bucket: 'b',
      objectName: 'x.zip',
      objects: 3,
      files: 5,
      bytes: 100,
      expiresAt: new Date().toISOString(),
    }));
    await handle.result();
    assert.equal(await jobStatus(handle), 'completed');
    assert.equal((await handle.query(exportProgressQuery)).status, 'completed');
  });

  it('ends failed with the activity’s reason', async () => {
    const handle = await start(async () => {
      throw ApplicationFailure.create({ type: 'IntegrityError', message: 'pack p1 is damaged', nonRetryable: true });
    });
    await assert.rejects(handle.result());
    assert.equal(await jobStatus(handle), 'failed');
    const progress = await handle.query(exportProgressQuery);
    assert.equal(progress.status, 'failed');
    assert.match(progress.error ?? '', /pack p1 is damaged/);
  });

  it('ends cancelled, not failed, when the job is cancelled mid-build', async () => {
    const handle = await start(async () => {
      for (;;) {
        Context.current().heartbeat();
        await Context.current().sleep(50);
      }
    });
    await eventually('building', async () =>
      (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'buildExport')
        ? true
        : undefined,
    );
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.equal(await jobStatus(handle), 'cancelled');
    assert.equal((await handle.query(exportProgressQuery)).status, 'cancelled');
  });
});
