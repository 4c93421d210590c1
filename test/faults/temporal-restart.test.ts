import type { TemporalProfile } from '../../devstack/local-stack';
import { startTestStack, type TestStack } from '../helpers/stack';
import { backupFixture, startFaultFixture, type FaultFixture } from '../helpers/backup-fixture';

const DOWN_SECONDS = Number(process.env.FAULT_TEMPORAL_DOWN_SECONDS ?? 10);

/**
 * The dev server, and the self-hosted cluster on PostgreSQL (the server process killed, its databases kept), which
 * production runs; FAULT_TEMPORAL_CLUSTER=0 leaves the cluster out on a machine without PostgreSQL. CI runs the fault
 * suite once, under Node 24 (.ci/run).
 */
const PROFILES: TemporalProfile[] = [
  'dev',
  ...(process.env.FAULT_TEMPORAL_CLUSTER === '0' ? [] : (['cluster'] as const)),
];

for (const profile of PROFILES) describeRestart(profile);

function describeRestart(profile: TemporalProfile): void {
  describe(`fault: the Temporal ${profile === 'cluster' ? 'server (cluster on PostgreSQL)' : 'dev server'} killed and restarted mid-backup`, () => {
    let stack: TestStack;
    let fault: FaultFixture | undefined;

    before(async function () {
      if (process.env.TEST_TEMPORAL_ADDRESS) this.skip(); // an external stack is not ours to kill
      stack = await startTestStack(profile); // its own stack: this test kills the server
      fault = await startFaultFixture(stack, { BACKUP_CHECKPOINT_SECONDS: '0' });
    });

    after(async () => {
      await fault?.stop();
      await stack?.stop();
    });

    it(`loses nothing: after ${DOWN_SECONDS} s down and a restart on the same data the backup completes`, async function () {
      this.timeout(600_000);
      const { client, fx } = fault!;
      const backups = backupFixture(stack, client, fx);
      const target = await backups.newTenant(1000);
      // Heartbeats sent while the server was down are lost: a short timeout has such an attempt retried in seconds.
      const { run, readBefore, note, seconds, objects } = await backups.backupThroughFault(
        target,
        async () => {
          // SIGKILL, as a crash: the server's SQLite file (dev) or PostgreSQL databases (cluster) stay, nothing is
          // flushed or handed over.
          stack.crashTemporal();
          await new Promise((resolve) => setTimeout(resolve, DOWN_SECONDS * 1000));
          await stack.restart();
        },
        { heartbeatTimeoutMs: 10_000 },
      );
      const description = await run.describe();
      console.log(
        `fault Temporal ${profile === 'cluster' ? 'cluster ' : ''}killed ${DOWN_SECONDS} s mid-backup (after ` +
          `${readBefore} objects read): ${note} (workflow ${description.status.name}) after ${seconds.toFixed(1)} s ` +
          `in all; ${objects} objects equal the tenant, none missing or twice`,
      );
    });
  });
}
