import assert from 'node:assert/strict';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { comparedTypes } from '../helpers/backup-fixture';
import { killedWorkerFixture, killWorker } from '../helpers/killed-worker';

describe('fault: the worker SIGKILLed mid-backup', () => {
  const faults = killedWorkerFixture({ BACKUP_CHECKPOINT_SECONDS: '0', BACKUP_RETENTION_DAYS: '0' });

  it('resumes from its checkpoint on a new worker: no object missing or twice', async function () {
    this.timeout(600_000);
    const { fx, backups } = faults;
    // Few enough users to be read in one listing (a larger type is read in partitions, in parallel), in pages of 20.
    const target = await backups.newTenant(3_000);
    // Slow Graph down so the users type is still being read when the worker dies: the SDK sends heartbeats at most
    // every 0.8 × the heartbeat timeout (2.4 s here), and a checkpoint is only seen once one carries it.
    fx.sim.control.setLatency({ baseMs: 150, jitterMs: 0, pageCaps: { users: 20 } });
    const doomed = faults.startWorker();
    const started = Date.now();
    const run = await backups.startBackup(target, { heartbeatTimeoutMs: 3000 });
    // Wait until the users capture has heartbeated a checkpoint, then kill the worker as a crash would.
    const checkpoint = await waitForCheckpoint(run.workflowId);
    await killWorker(doomed);
    const killedAt = Date.now();
    fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });

    const firstPages = () =>
      fx.sim.control
        .requestLog({ tenantId: target.directory })
        .filter((r) => /^\/users\?/.test(r.url) && !/skiptoken/i.test(r.url)).length;
    const startsBefore = firstPages();
    faults.startWorker();
    const result = await run.result();
    const seconds = (Date.now() - killedAt) / 1000;
    assert.equal(result.status, 'completed', await backups.skippedDetail(target, result.snapshotId));
    const startsAgain = firstPages() - startsBefore;
    assert.equal(startsAgain, 0, 'the retried attempt continued from its checkpoint, not from page one');
    const objects = await backups.assertSnapshotEqualsTenant(target, result.snapshotId!, comparedTypes);
    console.log(
      `fault worker killed mid-backup: SIGKILLed ${((killedAt - started) / 1000).toFixed(1)} s in, holding ` +
        `captureType(users) with a checkpoint after ${checkpoint.usersRead} users; the run completed on a new worker ` +
        `${seconds.toFixed(1)} s later, continuing from the checkpoint (${startsAgain} users listings restarted from page one); ` +
        `${objects} objects equal the tenant, none missing or twice`,
    );
  });

  /**
   * Waits until the users capture has heartbeated a checkpoint with a next page (what a crash must not lose), and says
   * how far it was: the checkpoint's next link skips that many users.
   */
  async function waitForCheckpoint(workflowId: string): Promise<{ usersRead: number }> {
    const { client } = faults;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const pending = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
      for (const a of pending) {
        if (a.activityType?.name !== 'captureType' || !a.heartbeatDetails?.payloads?.length) continue;
        const details = await decodeFromPayloadsAtIndex<{ nextLink?: string; objectsRead?: number } | undefined>(
          client.options.loadedDataConverter,
          0,
          a.heartbeatDetails.payloads,
        );
        if (details?.nextLink && /\/users\?/.test(details.nextLink)) return { usersRead: details.objectsRead ?? 0 };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the users capture did not checkpoint within 60 s');
  }
});
