import assert from 'node:assert/strict';
import { createStorageClient } from '../../storage/gcs-client';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { repositoryLocation } from '../../activities/backup/repositories';
import { retentionWorkflow } from '../../workflows';
import type { BackupTarget } from '../../tenants/types';
import { waitFor } from '../helpers/http';
import { comparedTypes } from '../helpers/backup-fixture';
import { killedWorkerFixture, killWorker } from '../helpers/killed-worker';

const SNAPSHOTS = 3;

describe('fault: the worker killed mid-retention', () => {
  // The backups' own retention keeps everything; the workers that run the retention under test keep the newest only.
  const faults = killedWorkerFixture({ BACKUP_CHECKPOINT_SECONDS: '0', BACKUP_RETENTION_DAYS: '3650' });

  it('completes on another worker: keeps the newest snapshot intact, frees what only the others used', async function () {
    this.timeout(600_000);
    const { client, fx, backups } = faults;
    const first = faults.startWorker();
    const target = await backups.newTenant(300);
    const snapshots: string[] = [];
    for (let n = 0; n < SNAPSHOTS; n++) {
      // Every user changes between backups: the older snapshots' user packs become garbage once they are forgotten.
      for (const u of fx.sim.control.listObjects(target.directory, 'user')) {
        fx.sim.control.updateObject(target.directory, u.id, { jobTitle: `Title ${n}` });
      }
      const run = await backups.startBackup(target);
      const result = await run.result();
      assert.equal(result.status, 'completed', await backups.skippedDetail(target, result.snapshotId));
      snapshots.push(result.snapshotId!);
      // Its retention (which keeps all) must be over: its prune lock would hold off the one under test.
      await client.workflow.getHandle(`retention:${target.tenantId}:${run.workflowId}`).result();
    }
    await first.stop();

    const store = repositoryStore(target);
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const info of store.list(prefix)) out.push(info.key);
      return out;
    };
    const packsBefore = (await keys('packs/')).length;
    const retentionEnv = { ...fx.env, BACKUP_RETENTION_DAYS: '0' };
    const doomed = faults.startWorker(retentionEnv);
    const handle = await client.workflow.start(retentionWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `retention-killed:${target.tenantId}`,
      args: [
        {
          tenantId: target.tenantId,
          resellerId: target.resellerId,
          storage: target.storage,
          graceMs: 0,
          heartbeatTimeoutMs: 3000,
        },
      ],
    });

    // Once prune holds its lock, run the worker in 10 ms slices (SIGSTOP/SIGCONT) and look at the bucket between
    // them: it is killed in the slice in which it deleted its first pack, with the rest still to delete.
    await waitFor(
      'prune to take its lock',
      async () => ((await keys('locks/exclusive-')).length > 0 ? true : undefined),
      120_000,
      20,
    );
    let packsAtKill: number | undefined;
    for (let slice = 0; packsAtKill === undefined; slice++) {
      doomed.kill('SIGSTOP');
      const locked = (await keys('locks/exclusive-')).length > 0;
      const packs = (await keys('packs/')).length;
      if (packs < packsBefore && locked) {
        await killWorker(doomed);
        packsAtKill = packs;
        break;
      }
      assert.ok(locked && slice < 3000, `prune ended before it could be killed mid-sweep (${packs} packs left)`);
      doomed.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 10));
    }
    const killedAt = Date.now();
    assert.ok((await keys('locks/exclusive-')).length > 0, 'the killed prune left its lock');

    faults.startWorker(retentionEnv);
    const result = await handle.result();
    const seconds = (Date.now() - killedAt) / 1000;

    const repo = await backups.repositoryOf(target);
    const newest = snapshots[snapshots.length - 1];
    assert.deepEqual(
      (await repo.listSnapshots()).map((s) => s.id),
      [newest],
      'retention keeps exactly the newest snapshot',
    );
    assert.deepEqual(await keys('locks/'), [], 'no lock left behind');
    const check = await repo.check({ readData: true });
    assert.deepEqual(check.errors, [], 'every blob the kept snapshot references is there and reads back');
    const objects = await backups.assertSnapshotEqualsTenant(target, newest, comparedTypes);
    // Nothing the forgotten snapshots alone used is left: a second prune finds nothing to delete.
    const again = await repo.prune({ graceMs: 0 });
    assert.deepEqual([again.deletedPacks, again.repackedPacks, again.deletedOrphanPacks], [[], [], []]);
    const packsAfter = (await keys('packs/')).length;
    console.log(
      `fault worker killed mid-retention: killed holding the prune lock with ${packsBefore - packsAtKill!} of ` +
        `${packsBefore} packs deleted; retention completed on a new worker ${seconds.toFixed(1)} s later ` +
        `(${result.packsDeleted} more deleted); 1 of ${SNAPSHOTS} snapshots kept, ${packsAfter} packs left, a second ` +
        `prune finds nothing to delete; check read every blob: 0 errors; ` +
        `${objects} objects equal the tenant, none missing or twice`,
    );
  });

  function repositoryStore(target: BackupTarget): GcsObjectStore {
    const { bucket, prefix } = repositoryLocation(target);
    return new GcsObjectStore(createStorageClient(faults.stack.config.storage).bucket(bucket), prefix);
  }
});
