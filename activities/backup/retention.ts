import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { RepositoryBusyError } from '../../storage/locks';
import { DEFAULT_GRACE_MS } from '../../storage/prune';
import { tenantWorkflowId, type Plan, type StorageLocation } from '../../tenants/types';
import { finalStorageFailure, type Repositories } from './repositories';
import { withTemporalDeadline } from '../temporal-calls';

export interface RetentionResult {
  forgotten: number;
  kept: number;
  packsDeleted: number;
  bytesFreed: number;
}

export interface RetentionInput {
  tenantId: string;
  storage: StorageLocation;
  now: string;
  /** Packs younger than this are never deleted (a backup may be about to reference them). Default 24 h. */
  graceMs?: number;
  /** Prune about this often even when nothing expired, to clear what crashed backups left (default: never). */
  pruneEveryMs?: number;
}

/**
 * Retention: the Backup plan keeps snapshots for `retentionDays` (the newest always), Archiver keeps everything.
 * Expired snapshots are forgotten, then prune deletes what no kept snapshot references. Prune refuses while a backup
 * of the tenant holds its lock; the activity then fails retryably and Temporal tries again later.
 */
export function createRetentionActivities(repositories: Repositories, temporal: Client, retentionDays: number) {
  return {
    async applyRetention(input: RetentionInput): Promise<RetentionResult> {
      const ctx = Context.current();
      // Proof of life while the prune runs (its mark phase is one long call): the SDK sends at most one heartbeat
      // per 0.8 × the heartbeat timeout, so calling often costs nothing.
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        return await retention(input, ctx);
      } finally {
        clearInterval(beat);
      }
    },
  };

  async function retention(input: RetentionInput, ctx: Context): Promise<RetentionResult> {
    // The tenant's record gives its reseller too: the repository is opened (and owner-checked) for exactly it.
    const { plan, resellerId } = await withTemporalDeadline(temporal, () =>
      temporal.workflow.getHandle(tenantWorkflowId(input.tenantId)).query<{ plan: Plan; resellerId: string }>('tenant'),
    );
    const { repo, snapshots } = await repositories
      .forTenant({ tenantId: input.tenantId, resellerId, storage: input.storage })
      .then(async (repo) => ({ repo, snapshots: await repo.listSnapshots() }))
      .catch((err: unknown) => {
        throw finalStorageFailure(err);
      });
    const cutoff = new Date(input.now).getTime() - retentionDays * 86_400_000;
    const expired =
      plan === 'archiver' ? [] : snapshots.slice(0, -1).filter((s) => new Date(s.record.finishedAt).getTime() < cutoff);
    await repo.forget(expired.map((s) => s.id));
    // Prune walks every kept manifest: worth it when something was forgotten, and once in a while anyway to clear
    // what crashed backups left behind (on Archiver nothing ever expires). That housekeeping prune never uses a
    // grace shorter than the default: with none it would race every running backup of the tenant for its lock.
    // A retried attempt prunes whatever it finds: its predecessor may have forgotten snapshots and died before
    // their data was freed, and only a prune can tell.
    const { attempt } = ctx.info;
    const housekeeping =
      input.pruneEveryMs !== undefined && inHousekeepingWindow(input.tenantId, input.now, input.pruneEveryMs);
    if (expired.length === 0 && !housekeeping && attempt === 1) {
      return { forgotten: 0, kept: snapshots.length, packsDeleted: 0, bytesFreed: 0 };
    }
    const graceMs =
      expired.length === 0 && attempt === 1
        ? Math.max(input.graceMs ?? DEFAULT_GRACE_MS, DEFAULT_GRACE_MS)
        : input.graceMs;
    try {
      const report = await repo.prune({
        graceMs,
        // The same name on every attempt of this activity: a retry takes over the lock a killed attempt left,
        // which would otherwise hold off prune and every backup of the tenant for the lock's stale period.
        lockHolder: createHash('sha256')
          .update(`${ctx.info.workflowExecution?.runId ?? ''}/${ctx.info.activityId}`)
          .digest('hex')
          .slice(0, 32),
        signal: ctx.cancellationSignal,
      });
      return {
        forgotten: expired.length,
        kept: report.keptSnapshots,
        // Packs a killed attempt left in no index are garbage of this run too.
        packsDeleted: report.deletedPacks.length + report.deletedOrphanPacks.length,
        bytesFreed: report.bytesFreed,
      };
    } catch (err) {
      if (err instanceof RepositoryBusyError) {
        // Backups are running: wait for them, 30 s and then twice as long each time up to 30 min (about a day in
        // all with the policy's attempts). The policy's own short interval is for a retry after a crash.
        throw ApplicationFailure.create({
          type: 'RepositoryBusy',
          message: `retention deferred: ${err.message}`,
          nextRetryDelay: Math.min(30_000 * 2 ** Math.min(attempt - 1, 6), 1_800_000),
        });
      }
      throw err;
    }
  }
}

/**
 * True during one day of every `everyMs` period, at a stable offset per tenant (so tenants do not all prune on the
 * same day). With a backup (and so a retention run) every day, each tenant prunes once per period without keeping
 * any record of when it last did.
 */
export function inHousekeepingWindow(tenantId: string, now: string, everyMs: number): boolean {
  const day = 86_400_000;
  if (everyMs <= day) return true;
  let hash = 0x811c9dc5;
  for (let i = 0; i < tenantId.length; i++) hash = Math.imul(hash ^ tenantId.charCodeAt(i), 0x01000193) >>> 0;
  const offset = (hash % Math.floor(everyMs / day)) * day;
  return (new Date(now).getTime() + offset) % everyMs < day;
}
