import assert from 'node:assert/strict';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { BACKUP_APP } from '../helpers/tenant-fixture';
import { tenantWorkflowId } from '../../tenants/types';
import {
  assertHistoriesHoldNoDirectoryData,
  backupFixture,
  comparedTypes,
  startFaultFixture,
  type FaultFixture,
} from '../helpers/backup-fixture';

describe('fault: consent revoked mid-backup', () => {
  let stack: TestStack;
  let fault: FaultFixture | undefined;

  before(async () => {
    stack = await sharedTestStack();
    // Default retention: with 0 days, the prune after each backup races the test's own reading of the repository
    // (Repository.open then meets an index prune has just deleted: 'IntegrityError: index … is missing').
    fault = await startFaultFixture(stack, { BACKUP_CHECKPOINT_SECONDS: '0' });
  });

  after(async () => {
    await fault?.stop();
  });

  for (const mode of ['servicePrincipal', 'assignments'] as const) {
    it(`(${mode}) records no complete snapshot, and after consent again the next run equals the tenant`, async function () {
      this.timeout(600_000);
      const { client, fx } = fault!;
      const backups = backupFixture(stack, client, fx);
      const target = await backups.newTenant(200);
      // The admin removes our app (or its permissions) while the backup reads the tenant.
      fx.sim.control.setFaults([
        { kind: 'revokeConsent', revokeMode: mode, afterRequests: 25, tenantId: target.directory },
      ]);
      const started = Date.now();
      let first: { status: string; snapshotId?: string } | { status: 'workflow failed'; snapshotId?: undefined };
      const firstRun = await backups.startBackup(target);
      try {
        first = await firstRun.result();
      } catch (err) {
        first = { status: 'workflow failed' };
        assert.match(String((err as Error).cause ?? err), /consent|permission|AADSTS|403|401/i);
      } finally {
        fx.sim.control.clearFaults();
      }
      const firstSeconds = (Date.now() - started) / 1000;
      assert.notEqual(first.status, 'completed', 'a backup whose consent was revoked half-way cannot be complete');
      if (first.snapshotId) {
        // Whatever it committed says which types it could not read; it never passes for a whole tenant.
        assert.notEqual(await backups.skippedDetail(target, first.snapshotId), '');
      }

      fx.sim.control.grantConsent(target.directory, BACKUP_APP.clientId);
      const second = await (await backups.startBackup(target)).result();
      assert.equal(second.status, 'completed', await backups.skippedDetail(target, second.snapshotId));
      const objects = await backups.assertSnapshotEqualsTenant(target, second.snapshotId!, comparedTypes);
      // The failed run's failures (Graph's and the token endpoint's refusals) are in history: none names an object.
      const events = await assertHistoriesHoldNoDirectoryData(client, fx, target.directory, [
        firstRun.workflowId,
        tenantWorkflowId(target.tenantId),
      ]);
      console.log(
        `fault consent revoked (${mode}): the run ended '${first.status}' after ${firstSeconds.toFixed(1)} s; ` +
          `after consent again the next run completed and ${objects} objects equal the tenant, none missing or twice; ` +
          `${events} history events hold no directory data or secret`,
      );
    });
  }
});
