import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { readRecord } from '../../devstack/local-stack';
import { backupProgressQuery } from '../../workflows';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/http';
import { startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { backupFixture, comparedTypes, startWorkerProcess } from '../helpers/backup-fixture';

// The 2 minutes: every storage call in flight times out (STORAGE_REQUEST_TIMEOUT_SECONDS, 15 s in tests) and is
// retried several times over. FAULT_STORAGE_STOP_SECONDS shortens it when iterating on the test.
const STOP_SECONDS = Number(process.env.FAULT_STORAGE_STOP_SECONDS ?? 120);

describe('fault: the storage emulator stopped mid-backup', () => {
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: ReturnType<typeof startWorkerProcess> | undefined;
  let storagePid: number | undefined;

  before(async function () {
    if (process.env.TEST_STORAGE_ENDPOINT) this.skip(); // an external emulator is not ours to stop
    stack = await sharedTestStack();
    storagePid = readRecord(stack.options!.dataDir)?.gcs.pid;
    assert.ok(storagePid, 'the stack records the emulator process');
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { BACKUP_CHECKPOINT_SECONDS: '0' });
    worker = startWorkerProcess(fx.env);
  });

  after(async () => {
    if (storagePid) process.kill(storagePid, 'SIGCONT');
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  it(`completes once storage answers again after ${STOP_SECONDS} s, and equals the tenant`, async function () {
    this.timeout(900_000);
    const backups = backupFixture(stack, client, fx);
    const target = await backups.newTenant(1500);
    // Slow enough that the backup is still reading and storing when the emulator stops.
    fx.sim.control.setLatency({ baseMs: 30, jitterMs: 20 });
    const started = Date.now();
    const run = await backups.startBackup(target);
    try {
      await waitFor(
        'the backup to store its first objects',
        async () => ((await run.query(backupProgressQuery)).objectsRead > 0 ? true : undefined),
        120_000,
      );
      // SIGSTOP: the process holds its connections and answers nothing, as a hung emulator or a storage outage does.
      process.kill(storagePid!, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, STOP_SECONDS * 1000));
    } finally {
      process.kill(storagePid!, 'SIGCONT');
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
    let result = await run
      .result()
      .catch((err: Error) => ({ status: `failed: ${err.message}`, snapshotId: undefined }));
    let note = `the run ${result.status}`;
    if (result.status !== 'completed') {
      // Failing cleanly is allowed; the next run must then complete.
      result = await (await backups.startBackup(target)).result();
      note += `, the next run ${result.status}`;
    }
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.status, 'completed', await backups.skippedDetail(target, result.snapshotId));
    const objects = await backups.assertSnapshotEqualsTenant(target, result.snapshotId!, comparedTypes);
    console.log(
      `fault storage stopped ${STOP_SECONDS} s mid-backup: ${note} after ${seconds.toFixed(1)} s in all; ` +
        `${objects} objects equal the tenant, none missing or twice`,
    );
  });
});
