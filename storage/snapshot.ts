import type { SkipReason } from '../catalog/types';
import { canonicalBytes, sha256Hex } from './canonical-json';
import { IntegrityError, openCompressed, sealCompressed } from './crypto';

export const SNAPSHOT_PREFIX = 'snapshots/';
export const FORGOTTEN_PREFIX = 'forgotten/';

export function snapshotKey(id: string): string {
  return SNAPSHOT_PREFIX + id;
}

/** Coverage of one object type in one snapshot: what a partial backup is missing, and why. */
export type TypeCoverage =
  | {
      status: 'captured';
      /** Entries in the manifest (present + soft-deleted). */
      count: number;
      softDeleted: number;
      /** Root blob id of the type's manifest. */
      manifest: string;
      /** How Graph was read: a full read, or only the changes since the previous snapshot (delta). */
      readMode?: 'full' | 'delta';
      /** Blob holding where the next backup continues reading Graph (the delta link); kept with the record. */
      syncState?: string;
      /** How the type's relationships were brought up to date (types with relationships only). */
      relationships?: RelationshipCoverage;
    }
  | { status: 'skipped'; count: 0; reason: SkipReason; detail?: string };

/**
 * How each relationship of a type was made current in a snapshot: `full-read` (every object's relationships read),
 * `delta` (delta reported the changes inline, e.g. `members@delta`), or `audit-log` (re-read for exactly the objects
 * the directory audit log named since the previous backup). `fallback` says why relationships were read in full
 * although the audit log would have served: a snapshot is never silently stale.
 */
export interface RelationshipCoverage {
  methods: Record<string, 'full-read' | 'delta' | 'audit-log'>;
  fallback?: RelationshipFallback;
  /** The Graph answer or the gap behind the fallback. */
  detail?: string;
  /** Objects whose relationships were re-read because the audit log named them. */
  reread?: number;
}

export type RelationshipFallback =
  /** 403: the tenant's consent lacks AuditLog.Read.All. */
  | 'audit-log-permission-missing'
  /** The previous backup is older than the audit log keeps records (7 days Free, 30 days P1/P2). */
  | 'audit-log-retention-exceeded'
  /** Any other failed read of the audit log. */
  | 'audit-log-error'
  /** The previous snapshot does not say when its relationships were read (written before this existed). */
  | 'no-audit-start';

/**
 * The record that makes a snapshot exist. Written last, after every pack, index and manifest it names. Its id is the
 * SHA-256 of its canonical JSON and it names the previous record's id, so history is a hash chain: changing or
 * removing a record breaks the chain. Records are never deleted (prune writes a `forgotten/` marker instead).
 */
export interface SnapshotRecord {
  v: 1;
  tenantId: string;
  startedAt: string;
  finishedAt: string;
  previous: string | null;
  types: Record<string, TypeCoverage>;
}

export function encodeSnapshot(dataKey: Buffer, record: SnapshotRecord): { id: string; bytes: Buffer } {
  const plain = canonicalBytes(record);
  return { id: sha256Hex(plain), bytes: sealCompressed(dataKey, 'snapshot', plain) };
}

export function decodeSnapshot(dataKey: Buffer, id: string, bytes: Buffer): SnapshotRecord {
  const plain = openCompressed(dataKey, 'snapshot', bytes, `snapshot ${id}`);
  if (sha256Hex(plain) !== id) throw new IntegrityError(`snapshot ${id}: content does not match its id`);
  const record = JSON.parse(plain.toString('utf8')) as SnapshotRecord;
  if (record.v !== 1) throw new IntegrityError(`snapshot ${id}: unknown format`);
  return record;
}

export interface ChainReport {
  ok: boolean;
  /** Newest record of each chain; one when history is linear. */
  heads: string[];
  /** Snapshot ids from oldest to newest along the chain ending at the newest head. */
  order: string[];
  problems: string[];
}

/**
 * Checks that the records form one linear hash chain: one genesis, every `previous` present, no fork, time moving
 * forward. `unreadable` are records that failed to decrypt or hash (tampered or truncated files).
 */
export function verifyChain(
  records: ReadonlyMap<string, SnapshotRecord>,
  unreadable: ReadonlyMap<string, string> = new Map(),
): ChainReport {
  const problems = [...unreadable].map(([id, why]) => `snapshot ${id} is unreadable: ${why}`);
  const children = new Map<string, string[]>();
  let genesis = 0;
  for (const [id, record] of records) {
    if (record.previous === null) {
      genesis++;
      continue;
    }
    const previous = records.get(record.previous);
    if (!previous) problems.push(`snapshot ${id} names previous ${record.previous}, which is missing or unreadable`);
    else if (previous.finishedAt > record.finishedAt) problems.push(`snapshot ${id} finished before its previous`);
    const list = children.get(record.previous) ?? [];
    list.push(id);
    children.set(record.previous, list);
  }
  if (records.size > 0 && genesis !== 1) problems.push(`expected one first snapshot, found ${genesis}`);
  for (const [parent, kids] of children) {
    if (kids.length > 1) problems.push(`history forks after ${parent}: ${kids.join(', ')}`);
  }
  const heads = [...records.keys()].filter((id) => !children.has(id));
  heads.sort((a, b) => (records.get(a)?.finishedAt ?? '').localeCompare(records.get(b)?.finishedAt ?? ''));
  const order: string[] = [];
  let cursor: string | null | undefined = heads[heads.length - 1];
  while (cursor && records.has(cursor) && order.length <= records.size) {
    order.unshift(cursor);
    cursor = records.get(cursor)?.previous;
  }
  return { ok: problems.length === 0, heads, order, problems };
}
