import type { TypeCoverage } from '../../storage/snapshot';
import type { BackupTarget } from '../../tenants/types';
import type { TypeCapture } from './capture-type';
import { finalStorageFailure, type Repositories } from './repositories';

export interface CommitInput {
  target: BackupTarget;
  startedAt: string;
  captures: TypeCapture[];
  /** Types whose capture failed for good after its retries, with the failure's message. */
  failed: { type: string; detail: string }[];
}

export interface CommitResult {
  snapshotId: string;
  objects: number;
  skippedTypes: string[];
}

/** Writes the snapshot record, last: from here on the snapshot exists, with its coverage report. */
export function createSnapshotActivities(repositories: Repositories) {
  return {
    async commitSnapshot(input: CommitInput): Promise<CommitResult> {
      const repo = await repositories.forTenant(input.target).catch((err: unknown) => {
        throw finalStorageFailure(err);
      });
      const types: Record<string, TypeCoverage> = {};
      for (const c of input.captures) {
        types[c.type] =
          c.status === 'captured'
            ? {
                status: 'captured',
                count: c.count,
                softDeleted: c.softDeleted,
                manifest: c.manifest,
                readMode: c.readMode,
                ...(c.syncState ? { syncState: c.syncState } : {}),
                ...(c.relationships ? { relationships: c.relationships } : {}),
              }
            : { status: 'skipped', count: 0, reason: c.reason, detail: c.detail };
      }
      for (const f of input.failed)
        types[f.type] = { status: 'skipped', count: 0, reason: 'graph-error', detail: f.detail };
      const { id, record } = await repo
        .commitSnapshot({ tenantId: input.target.tenantId, startedAt: new Date(input.startedAt), types })
        .catch((err: unknown) => {
          throw finalStorageFailure(err);
        });
      const coverage = Object.entries(record.types);
      return {
        snapshotId: id,
        objects: coverage.reduce((n, [, t]) => n + t.count, 0),
        skippedTypes: coverage.filter(([, t]) => t.status === 'skipped').map(([type]) => type),
      };
    },
  };
}
