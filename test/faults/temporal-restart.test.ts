import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { backupProgressQuery } from '../../workflows';
import type { TemporalProfile } from '../../devstack/local-stack';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/http';
import { startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { backupFixture, comparedTypes, startWorkerProcess } from '../helpers/backup-fixture';

const DOWN_SECONDS = Number(process.env.FAULT_TEMPORAL_DOWN_SECONDS ?? 10);

/**
 * The dev server, and the self-hosted cluster on PostgreSQL (the server process killed, its databases kept), which
 * production runs; FAULT_TEMPORAL_CLUSTER=0 leaves the cluster out on a machine without PostgreSQL. CI runs the fault
 * suite once, under Node 20 (.ci/run).
 */
const PROFILES: TemporalProfile[] = [
  'dev',
  ...(process.env.FAULT_TEMPORAL_CLUSTER === '0' ? [] : (['cluster'] as const)),
];

for (const profile of PROFILES) describeRestart(profile);

function describeRestart(profile: TemporalProfile): void {
  describe(`fault: the Temporal ${profile === 'cluster' ? 'server (cluster on PostgreSQL)' : 'dev server'} killed and restarted mid-backup`, () => {
    let stack: TestStack;
    let client: Client;
    let fx: TenantFixture;
    let worker: ReturnType<typeof startWorkerProcess> | undefined;

    before(async function () {
      if (process.env.TEST_TEMPORAL_ADDRESS) this.skip(); // an external stack is not ours to kill
      stack = await startTestStack(profile); // its own stack: this test kills the server
      client = await connectClient(stack.config.temporal);
      fx = await startTenantFixture(stack, client, { BACKUP_CHECKPOINT_SECONDS: '0' });
      worker = startWorkerProcess(fx.env);
    });

    after(async () => {
      await worker?.stop();
      await fx?.sim.close();
      await client?.connection.close();
      await stack?.stop();
    });

    it(`loses nothing: after ${DOWN_SECONDS} s down and a restart on the same data the backup completes`, async function () {
      this.timeout(600_000);
      const backups = backupFixture(stack, client, fx);
      const target = await backups.newTenant(1000);
      // Slow enough that the backup is still reading when the server dies.
      fx.sim.control.setLatency({ baseMs: 30, jitterMs: 20 });
      const started = Date.now();
      // Heartbeats sent while the server was down are lost: a short timeout has such an attempt retried in seconds.
      const run = await backups.startBackup(target, { heartbeatTimeoutMs: 10_000 });
      let readBefore: number;
      try {
        readBefore = await waitFor(
          'the backup to read its first objects',
          async () => {
            const { objectsRead } = await run.query(backupProgressQuery);
            return objectsRead > 0 ? objectsRead : undefined;
          },
          120_000,
        );
        // SIGKILL, as a crash: the server's SQLite file (dev) or PostgreSQL databases (cluster) stay, nothing is flushed
        // or handed over.
        stack.crashTemporal();
        await new Promise((resolve) => setTimeout(resolve, DOWN_SECONDS * 1000));
        await stack.restart();
      } finally {
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
      const description = await run.describe();
      console.log(
        `fault Temporal ${profile} killed ${DOWN_SECONDS} s mid-backup (after ${readBefore} objects read): ${note} ` +
          `(workflow ${description.status.name}) after ${seconds.toFixed(1)} s in all; ${objects} objects equal the ` +
          `tenant, none missing or twice`,
      );
    });
  });
}
