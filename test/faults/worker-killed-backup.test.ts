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

  it('resumes a partitioned listing partition by partition: none that had begun is read from its first page again', async function () {
    this.timeout(600_000);
    const { fx, backups } = faults;
    // Partitioned whatever the latency (the decision is measured otherwise), in pages of 20 that take 300 ms.
    const target = await backups.newTenant(8_000);
    fx.sim.control.setLatency({ baseMs: 300, jitterMs: 0, pageCaps: { users: 20 } });
    const doomed = faults.startWorker({ ...fx.env, BACKUP_PARTITIONED_LISTING: 'always' });
    const run = await backups.startBackup(target, { heartbeatTimeoutMs: 3000 });
    const checkpoint = await waitForPartitions(run.workflowId);
    await killWorker(doomed);
    fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });

    const seen = fx.sim.control.requestLog().at(-1)?.seq ?? 0;
    faults.startWorker({ ...fx.env, BACKUP_PARTITIONED_LISTING: 'always' });
    const result = await run.result();
    assert.equal(result.status, 'completed', await backups.skippedDetail(target, result.snapshotId));
    // Partitions under way when the worker died go on from their checkpointed page; only those not begun start.
    const firstPages = fx.sim.control
      .requestLog({ tenantId: target.directory, kind: 'graph', sinceSeq: seen })
      .filter((r) => /^\/users\?/.test(r.url) && !/skiptoken/i.test(r.url));
    assert.ok(
      firstPages.every((r) => /startswith/i.test(r.url)),
      'the users were not read again in one listing (a failed completeness check would)',
    );
    const restarted = new Set(
      firstPages
        .map((r) => /startswith(?:\(|%28)userPrincipalName(?:,|%2C)(?:'|%27)((?:(?!'|%27).)*)(?:'|%27)/i.exec(r.url))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => decodeURIComponent(m[1])),
    );
    for (const key of checkpoint.begun)
      assert.ok(!restarted.has(key), `partition '${key}' was read from page one again`);
    const objects = await backups.assertSnapshotEqualsTenant(target, result.snapshotId!, comparedTypes);
    console.log(
      `fault worker killed mid-partitioned listing: ${checkpoint.begun.length} of ${checkpoint.partitions} partitions ` +
        `under way and ${checkpoint.done} done at the kill; after it ${restarted.size} partitions read from page one ` +
        `(none of those under way); ${objects} objects equal the tenant, none missing or twice`,
    );
  });

  /** A capture's heartbeated checkpoint (activities/backup/page-pipeline.ts, CaptureCheckpoint), as far as read here. */
  interface Checkpoint {
    nextLink?: string;
    objectsRead?: number;
    partitions?: { key: string; next: string | null }[];
  }

  /** Polls the backup's pending captureType activities until `accept` makes something of a checkpoint (60 s at most). */
  async function waitForCheckpointWhere<T>(
    workflowId: string,
    accept: (checkpoint: Checkpoint) => T | undefined,
  ): Promise<T> {
    const { client } = faults;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const pending = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
      for (const a of pending) {
        if (a.activityType?.name !== 'captureType' || !a.heartbeatDetails?.payloads?.length) continue;
        const details = await decodeFromPayloadsAtIndex<Checkpoint | undefined>(
          client.options.loadedDataConverter,
          0,
          a.heartbeatDetails.payloads,
        );
        const accepted = details ? accept(details) : undefined;
        if (accepted !== undefined) return accepted;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the users capture did not checkpoint as awaited within 60 s');
  }

  /** Waits until the users capture has checkpointed a partitioned listing with partitions under way. */
  function waitForPartitions(workflowId: string) {
    return waitForCheckpointWhere(workflowId, ({ partitions = [] }) => {
      const begun = partitions.filter((p) => p.next && /skiptoken/i.test(p.next)).map((p) => p.key);
      if (begun.length === 0) return undefined;
      return { partitions: partitions.length, begun, done: partitions.filter((p) => p.next === null).length };
    });
  }

  /**
   * Waits until the users capture has heartbeated a checkpoint with a next page (what a crash must not lose), and says
   * how far it was: the checkpoint's next link skips that many users.
   */
  function waitForCheckpoint(workflowId: string) {
    return waitForCheckpointWhere(workflowId, ({ nextLink, objectsRead }) =>
      nextLink && /\/users\?/.test(nextLink) ? { usersRead: objectsRead ?? 0 } : undefined,
    );
  }
});
