import assert from 'node:assert/strict';
import { readRecord } from '../../devstack/local-stack';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { backupFixture, startFaultFixture, type FaultFixture } from '../helpers/backup-fixture';

// The 2 minutes: every storage call in flight times out (STORAGE_REQUEST_TIMEOUT_SECONDS, 15 s in tests) and is
// retried several times over. FAULT_STORAGE_STOP_SECONDS shortens it when iterating on the test.
const STOP_SECONDS = Number(process.env.FAULT_STORAGE_STOP_SECONDS ?? 120);

describe('fault: the storage emulator stopped mid-backup', () => {
  let stack: TestStack;
  let fault: FaultFixture | undefined;
  let storagePid: number | undefined;

  before(async function () {
    if (process.env.TEST_STORAGE_ENDPOINT) this.skip(); // an external emulator is not ours to stop
    stack = await sharedTestStack();
    storagePid = readRecord(stack.options!.dataDir)?.gcs.pid;
    assert.ok(storagePid, 'the stack records the emulator process');
    fault = await startFaultFixture(stack, { BACKUP_CHECKPOINT_SECONDS: '0' });
  });

  after(async () => {
    if (storagePid) process.kill(storagePid, 'SIGCONT');
    await fault?.stop();
  });

  it(`completes once storage answers again after ${STOP_SECONDS} s, and equals the tenant`, async function () {
    this.timeout(900_000);
    const { client, fx } = fault!;
    const backups = backupFixture(stack, client, fx);
    const target = await backups.newTenant(1500);
    const { note, seconds, objects } = await backups.backupThroughFault(target, async () => {
      // SIGSTOP: the process holds its connections and answers nothing, as a hung emulator or a storage outage does.
      process.kill(storagePid!, 'SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, STOP_SECONDS * 1000));
      } finally {
        process.kill(storagePid!, 'SIGCONT');
      }
    });
    console.log(
      `fault storage stopped ${STOP_SECONDS} s mid-backup: ${note} after ${seconds.toFixed(1)} s in all; ` +
        `${objects} objects equal the tenant, none missing or twice`,
    );
  });
});
