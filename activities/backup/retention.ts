import type { Client } from '@temporalio/client';
import { RepositoryBusyError } from '../../storage/locks';
import { tenantWorkflowId, type Plan, type StorageLocation } from '../../tenants/types';
import { finalStorageFailure, type Repositories } from './repositories';

export interface RetentionResult {
  forgotten: number;
  kept: number;
  packsDeleted: number;
  bytesFreed: number;
}

/**
 * Retention: the Backup plan keeps snapshots for `retentionDays` (the newest always), Archiver keeps everything.
 * Expired snapshots are forgotten, then prune deletes what no kept snapshot references. Prune refuses while a backup
 * of the tenant holds its lock; the activity then fails retryably and Temporal tries again later.
 */
export function createRetentionActivities(repositories: Repositories, temporal: Client, retentionDays: number) {
  return {
    async applyRetention(input: {
      tenantId: string;
      storage: StorageLocation;
      now: string;
      /** Packs younger than this are never deleted (a backup may be about to reference them). Default 24 h. */
      graceMs?: number;
    }): Promise<RetentionResult> {
      // The tenant's record gives its reseller too: the repository is opened (and owner-checked) for exactly it.
      const { plan, resellerId } = await temporal.workflow
        .getHandle(tenantWorkflowId(input.tenantId))
        .query<{ plan: Plan; resellerId: string }>('tenant');
      const { repo, snapshots } = await repositories
        .forTenant({ tenantId: input.tenantId, resellerId, storage: input.storage })
        .then(async (repo) => ({ repo, snapshots: await repo.listSnapshots() }))
        .catch((err: unknown) => {
          throw finalStorageFailure(err);
        });
      const cutoff = new Date(input.now).getTime() - retentionDays * 86_400_000;
      const expired =
        plan === 'archiver'
          ? []
          : snapshots.slice(0, -1).filter((s) => new Date(s.record.finishedAt).getTime() < cutoff);
      await repo.forget(expired.map((s) => s.id));
      // Prune walks every kept manifest: worth it only when something was forgotten (it then also clears what
      // crashed backups left behind). Otherwise there is nothing a kept snapshot does not use.
      if (expired.length === 0) {
        return { forgotten: 0, kept: snapshots.length, packsDeleted: 0, bytesFreed: 0 };
      }
      try {
        const report = await repo.prune({ graceMs: input.graceMs });
        return {
          forgotten: expired.length,
          kept: report.keptSnapshots,
          packsDeleted: report.deletedPacks.length,
          bytesFreed: report.bytesFreed,
        };
      } catch (err) {
        if (err instanceof RepositoryBusyError) throw new Error(`retention deferred: ${err.message}`, { cause: err });
        throw err;
      }
    },
  };
}
