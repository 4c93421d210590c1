import { auditActivityMatches, auditTrackedRelationships, relationshipUrl, type ObjectTypeSpec } from '../../catalog';
import { breathe } from '../../storage/breather';
import { LruCache } from '../lru-cache';
import type { RelationshipFallback } from '../../storage/snapshot';
import { storedForm } from '../../storage/stored-form';
import type { TypeWriter } from '../../storage/type-writer';
import type { GraphReader } from './graph-reader';

/**
 * Between full reads, relationships delta does not report (owners, app-role assignments, federated identity
 * credentials…) are kept current from the directory audit log: the records since the previous backup name the
 * objects whose relationships changed, and only those are re-read.
 * https://learn.microsoft.com/graph/api/directoryaudit-list
 */

export interface AuditLogSettings {
  /**
   * How long the tenant's audit log keeps records, in ms: 7 days on Free, 30 on P1/P2 (reference-reports-data-
   * retention). Graph cannot tell which, so the default assumes Free; a longer gap means a full relationship read.
   */
  retentionMs: number;
  /**
   * Read from this long before the previous capture's start: audit records appear minutes after the change
   * (reference-log-latency; 2 min p95, 5 min p99 in Microsoft's withdrawn figures, 5–15 min observed).
   */
  latencyMarginMs: number;
}

export type AuditChanges =
  | {
      ok: true;
      byRelationship: Map<string, Set<string>>;
      /** When the read these changes come from began (a shared read may have begun before this type asked). */
      readAt: number;
    }
  | { ok: false; fallback: RelationshipFallback; detail: string };

/**
 * Reads the directory audit log from `since` (less the latency margin) and returns, per audit-tracked relationship of
 * the type, the ids the matching records name (targets and `….ObjectID` properties; ids of other types do no harm,
 * the caller keeps those it holds). Or why it cannot: then the caller reads the relationships in full.
 *
 * `share` (the backup run's id) lets the types of one backup in this process read the log once: the reports service
 * allows 5 requests per 10 s per app and tenant (activities/graph/reports-limit.ts), and every type would otherwise
 * read the same records again. Never shared across backups: each snapshot sees the records there are when it runs.
 */
export async function readAuditChanges(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  since: string | undefined,
  settings: AuditLogSettings,
  now = Date.now(),
  share?: string,
): Promise<AuditChanges> {
  if (!since) {
    return { ok: false, fallback: 'no-audit-start', detail: 'the previous snapshot does not say when it was read' };
  }
  const from = Date.parse(since) - settings.latencyMarginMs;
  if (now - from > settings.retentionMs) {
    const days = (x: number) => (x / 86_400_000).toFixed(1);
    return {
      ok: false,
      fallback: 'audit-log-retention-exceeded',
      detail: `the previous backup read this type ${days(now - from)} days ago; the audit log keeps ${days(settings.retentionMs)} days`,
    };
  }
  const rels = auditTrackedRelationships(spec);
  const byRelationship = new Map(rels.map((r) => [r.key, new Set<string>()]));
  let read: AuditRead;
  try {
    read = await auditEntries(graph, from, share, Math.max(from - SHARED_READ_SLACK_MS, now - settings.retentionMs));
  } catch (err) {
    const status = graph.statusOf(err);
    if (!status) throw err;
    return {
      ok: false,
      fallback: status.status === 403 ? 'audit-log-permission-missing' : 'audit-log-error',
      detail: `${status.status} ${status.code ?? ''}: ${status.message ?? ''}`.trim(),
    };
  }
  for (const entry of read.entries) {
    if (entry.at < from) continue;
    const matching = rels.filter((r) => auditActivityMatches(r, entry.activity));
    for (const r of matching) for (const id of entry.ids) byRelationship.get(r.key)!.add(id);
  }
  return { ok: true, byRelationship, readAt: read.readAt };
}

/** What the relationships need of one audit record. */
interface AuditEntry {
  at: number;
  activity: string;
  ids: string[];
}

/**
 * A shared read starts this much earlier than the first type asked for, so that the other types of the backup, whose
 * previous captures started a little earlier or later, find it covers them (records before a type's own start are
 * passed over).
 */
const SHARED_READ_SLACK_MS = 30 * 60_000;

interface AuditRead {
  /** When the read began: records after it may be missing from it. */
  readAt: number;
  entries: AuditEntry[];
}

/** Reads in progress or done, by backup run; a few backups run in a worker at once. */
const sharedReads = new LruCache<string, { from: number; read: Promise<AuditRead> }>(64);

function auditEntries(
  graph: GraphReader,
  from: number,
  share: string | undefined,
  sharedFrom: number,
): Promise<AuditRead> {
  if (!share) return readEntries(graph, from);
  const known = sharedReads.get(share);
  if (known && known.from <= from) return known.read;
  const shared = { from: sharedFrom, read: readEntries(graph, sharedFrom) };
  sharedReads.set(share, shared);
  // A failed read is not kept: the next type (or this one's retry) asks again.
  shared.read.catch(() => {
    if (sharedReads.get(share) === shared) sharedReads.delete(share);
  });
  return shared.read;
}

async function readEntries(graph: GraphReader, from: number): Promise<AuditRead> {
  const readAt = Date.now();
  // Only `ge`/`le` are documented on activityDateTime (no `gt`); timestamps unquoted (directoryaudit-list). Graph
  // documents no page size limit for this list; 999 is the directory's usual maximum.
  const url = `${graph.rootUrl}/auditLogs/directoryAudits?$filter=activityDateTime ge ${new Date(from).toISOString()}&$top=999`;
  const entries: AuditEntry[] = [];
  for await (const page of graph.pages(url)) {
    for (const record of page.value) {
      // A failed operation changed nothing (13.13); a timeout may have, so only `failure` is passed over.
      if (record.result === 'failure') continue;
      const activity = typeof record.activityDisplayName === 'string' ? record.activityDisplayName : '';
      const at = typeof record.activityDateTime === 'string' ? Date.parse(record.activityDateTime) : NaN;
      // A record without a readable time is kept for every type: re-reading too much is safe, too little is not.
      entries.push({ at: Number.isFinite(at) ? at : Number.POSITIVE_INFINITY, activity, ids: namedIds(record) });
    }
    await breathe();
  }
  return { readAt, entries };
}

/** Object ids an audit record names: its targets' ids and the `….ObjectID` modified properties (JSON-encoded). */
function namedIds(record: Record<string, unknown>): string[] {
  const ids: string[] = [];
  const targets = Array.isArray(record.targetResources) ? (record.targetResources as Record<string, unknown>[]) : [];
  for (const t of targets) {
    if (typeof t.id === 'string' && t.id) ids.push(t.id.toLowerCase());
    const props = Array.isArray(t.modifiedProperties) ? (t.modifiedProperties as Record<string, unknown>[]) : [];
    for (const p of props) {
      if (typeof p.displayName !== 'string' || !p.displayName.endsWith('.ObjectID')) continue;
      for (const v of [p.newValue, p.oldValue]) {
        const id = decodeValue(v);
        if (id) ids.push(id.toLowerCase());
      }
    }
  }
  return ids;
}

function decodeValue(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (typeof parsed === 'string') return parsed;
    if (Array.isArray(parsed) && typeof parsed[0] === 'string') return parsed[0];
  } catch {
    // Not JSON: some records carry the bare value.
  }
  return /^[0-9a-f-]{36}$/i.test(v) ? v : undefined;
}

/**
 * Re-reads the named relationships of the objects the audit log named that the writer holds as present and that this
 * run has not read already; returns how many objects were re-read.
 */
export async function rereadRelationships(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  writer: TypeWriter,
  changes: Map<string, Set<string>>,
  alreadyRead: ReadonlySet<string>,
): Promise<number> {
  const wanted = new Map<string, string[]>();
  for (const [rel, ids] of changes) {
    for (const id of ids) {
      // Soft-deleted objects keep the relationships they had (Graph no longer lists them for an object in the bin).
      if (alreadyRead.has(id) || writer.currentEntry(id)?.state !== 'present') continue;
      const list = wanted.get(id) ?? [];
      list.push(rel);
      wanted.set(id, list);
    }
  }
  const requests = [...wanted].flatMap(([id, rels]) =>
    rels.map((rel) => ({ id, rel, url: relationshipUrl(spec.key, rel, id, { baseUrl: graph.rootUrl }) })),
  );
  // In slices, so a tenant-wide change (a new owner on every app) holds a bounded number of lists at once.
  const SLICE = 200;
  for (let i = 0; i < requests.length; i += SLICE) {
    const slice = requests.slice(i, i + SLICE);
    const results = await graph.readAllMany(slice.map((r) => r.url));
    const byObject = new Map<string, Record<string, { id: string }[]>>();
    for (const [k, r] of slice.entries()) {
      const rels = byObject.get(r.id) ?? {};
      rels[r.rel] = results[k].map((item) => storedForm(item) as { id: string });
      byObject.set(r.id, rels);
    }
    for (const [id, rels] of byObject) await writer.replaceRelationships(id, rels);
    await writer.heartbeat();
  }
  return wanted.size;
}
