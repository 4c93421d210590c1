import { Context } from '@temporalio/activity';
import type { BadBlob, VerifyReport, VerifyRequest } from '../../exports/types';
import { verifySnapshot } from '../../storage/verify-snapshot';
import type { Repositories } from '../backup/repositories';
import { openTenantRepository } from '../export/tenant-repository';

/** The report carries at most this many bad blobs (it travels through workflow history); the count says the rest. */
const MAX_REPORTED = 1000;

export function createVerifyActivities(repositories: Repositories) {
  return {
    /**
     * Re-reads a snapshot's blobs, or with no snapshot every pack of the repository (`restic check --read-data`),
     * and reports every blob that fails its hash or cannot be read. Heartbeats as it goes.
     */
    async verifyRepository(req: VerifyRequest): Promise<VerifyReport> {
      const ctx = Context.current();
      const repo = await openTenantRepository(repositories, req);
      if (req.snapshotId) {
        const result = await verifySnapshot(repo, req.snapshotId, (blobsChecked) => ctx.heartbeat({ blobsChecked }));
        const badBlobs: BadBlob[] = result.badBlobs.slice(0, MAX_REPORTED);
        return {
          scope: 'snapshot',
          snapshotId: req.snapshotId,
          ok: result.badBlobs.length === 0 && result.errors.length === 0,
          blobsChecked: result.blobsChecked,
          badBlobs,
          badBlobCount: result.badBlobs.length,
          errors: result.errors,
        };
      }
      const timer = setInterval(() => ctx.heartbeat({ phase: 'check' }), 5000);
      try {
        const report = await repo.check({ readData: true });
        const badBlobs: BadBlob[] = report.errors
          .map((error) => ({ error, match: /blob ([0-9a-f]{64})(?: in pack ([0-9a-f]{64}))?/.exec(error) }))
          .filter((e) => e.match)
          .map(({ error, match }) => ({ blobId: match![1], packId: match![2], usedBy: [], error }));
        return {
          scope: 'repository',
          ok: report.ok,
          blobsChecked: report.blobsChecked,
          badBlobs: badBlobs.slice(0, MAX_REPORTED),
          badBlobCount: badBlobs.length,
          errors: report.errors.slice(0, MAX_REPORTED),
        };
      } finally {
        clearInterval(timer);
      }
    },
  };
}
