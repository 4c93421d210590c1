import { IntegrityError } from './crypto';

/**
 * A `sync-state` blob (docs/storage-layout.md): where the next backup of a type continues reading Graph. The type's
 * coverage in the snapshot record names it; prune keeps it with the record.
 */
export interface SyncState {
  /** The Microsoft tenant the link belongs to: a repository must never continue another tenant's round. */
  directory: string;
  /** Graph's opaque `@odata.deltaLink`, followed as is. */
  deltaLink: string;
  /** Delta rounds since the last full read. */
  deltaRounds: number;
  /**
   * When the capture that wrote this state started (ISO): the next backup reads the directory audit log from there
   * (less a margin for the log's latency) to find objects whose relationships changed. Absent in older states: the
   * next backup then reads relationships in full.
   */
  relationshipsAsOf?: string;
}

/** The blob's JSON as a SyncState, or an IntegrityError naming the blob when it has another shape. */
export function parseSyncState(id: string, value: unknown): SyncState {
  const v = value as Partial<SyncState> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.directory !== 'string' ||
    typeof v.deltaLink !== 'string' ||
    typeof v.deltaRounds !== 'number' ||
    !Number.isInteger(v.deltaRounds) ||
    v.deltaRounds < 0 ||
    (v.relationshipsAsOf !== undefined &&
      (typeof v.relationshipsAsOf !== 'string' || isNaN(Date.parse(v.relationshipsAsOf))))
  ) {
    throw new IntegrityError(`Sync state ${id} is not {"directory","deltaLink","deltaRounds"}`);
  }
  return {
    directory: v.directory,
    deltaLink: v.deltaLink,
    deltaRounds: v.deltaRounds,
    ...(v.relationshipsAsOf !== undefined ? { relationshipsAsOf: v.relationshipsAsOf } : {}),
  };
}
