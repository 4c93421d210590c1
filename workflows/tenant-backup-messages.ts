import { defineQuery } from '@temporalio/workflow';

// The backup workflow's messages and what they carry, shared by the workflow, the API (System Status) and the bench.

export type BackupStatus =
  | 'checking-access'
  | 'capturing'
  | 'committing'
  | 'completed'
  | 'incomplete'
  | 'reauthorization-required'
  /** The run failed for another reason than consent (Graph or storage unreachable…): the next run tries again. */
  | 'failed'
  | 'cancelled';

/** What the System Status view shows of a running or finished backup. */
export interface BackupProgress {
  tenantId: string;
  status: BackupStatus;
  startedAt: string;
  typesTotal: number;
  typesDone: number;
  running: string[];
  objectsRead: number;
  requests: number;
  resourceUnits: number;
  throttled: number;
  throttleWaitMs: number;
  /** Time spent waiting for Graph's answers, summed over the types' activities. */
  graphMs: number;
  /** Time the types' capture activities took, summed (they overlap: this exceeds the backup's duration). */
  captureMs: number;
  /** Time spent storing what was read, summed over the types. */
  storageMs: number;
  skipped: { type: string; reason: string; detail?: string }[];
  /** Per captured type: how it was read and what it took. */
  types: Record<string, TypeProgress>;
  snapshotId?: string;
  /** Why the run failed, in words (status failed or cancelled). */
  failure?: string;
}

/** One captured type: how it was read, what it took and where its time went (the three overlap). */
export interface TypeProgress {
  readMode: 'full' | 'delta';
  objectsRead: number;
  /** When the capture started, in seconds after the backup did (types wait for a free slot). */
  startedAfterSeconds: number;
  seconds: number;
  resourceUnits: number;
  bytesStored: number;
  throttleWaitSeconds: number;
  graphSeconds: number;
  storageSeconds: number;
  /** Listings a large type was read in parallel in (absent when it was read in one). */
  partitions?: number;
}

export const backupProgressQuery = defineQuery<BackupProgress>('backupProgress');
