import { diffObjects, type AttributeChange } from './object-diff';
import { diffRelationshipItems, type RelatedItem, type RelatedRef } from './relationship-diff';

/** An object of a type in one snapshot, as its manifest records it (storage's ManifestEntry has this shape). */
export interface SnapshotEntry {
  id: string;
  displayName: string | null;
  contentHash: string;
  state: 'present' | 'softDeleted';
  rels?: Record<string, string>;
}

export type Side = 'from' | 'to';

/** What the diff reads; storage/snapshot-reader.ts implements it over a repository. */
export interface DiffSource {
  /** Types of the snapshot: the manifest id of a captured type, or why it was skipped. */
  coverage(side: Side): Promise<Record<string, { manifest: string } | { skipped: string }>>;
  /** A captured type's entries (sorted or not), resolved through its manifest chain; only `ids` when given. */
  entries(side: Side, type: string, ids?: ReadonlySet<string>): Promise<ReadonlyMap<string, SnapshotEntry>>;
  /**
   * Ids whose entries may differ between the two sides, when the manifests tell without being read whole (one is an
   * ancestor of the other in a diff chain); undefined when every entry must be compared.
   */
  candidates?(type: string): Promise<ReadonlySet<string> | undefined>;
  /** Object versions by content hash, each verified; fewer reads when given many at once. */
  readObjects(
    side: Side,
    type: string,
    entries: readonly SnapshotEntry[],
  ): Promise<Map<string, Record<string, unknown>>>;
  readRelationship(side: Side, relationshipId: string): Promise<RelatedItem[]>;
  /** Id, type and display name of related items, looked up in the snapshot's manifests (the other side's if absent). */
  describe(
    side: Side,
    type: string,
    relationship: string,
    parentId: string,
    items: readonly RelatedItem[],
  ): Promise<RelatedRef[]>;
  /** Arrays of the type to compare as sets (catalog/comparison.ts). */
  unorderedArrays(type: string): readonly string[];
  /** Properties that only record what the object's state already says (catalog/comparison.ts). */
  ignoredProperties(type: string): readonly string[];
}

export interface ObjectRef {
  id: string;
  displayName: string | null;
}

export interface RelationshipChange {
  relationship: string;
  added: RelatedRef[];
  removed: RelatedRef[];
  /** Items still there whose captured fields (e.g. an assignment's role) changed. */
  changed: RelatedRef[];
}

export interface ObjectChange extends ObjectRef {
  attributes: AttributeChange[];
  relationships: RelationshipChange[];
}

/**
 * Per type: objects only in `to` (added), only in `from` or moved to the recycle bin (removed, `hard` / `soft`), back
 * from the recycle bin (restored), and changed in content or relationships (changed; a soft-deleted or restored object
 * whose content also changed is listed there too). B → A is the inverse of A → B: added ⇄ removed (hard),
 * removed (soft) ⇄ restored, old ⇄ new.
 */
export interface TypeDiff {
  type: string;
  /** false when one of the snapshots did not capture the type (its coverage says why). */
  comparable: boolean;
  reason?: string;
  added: ObjectRef[];
  removed: (ObjectRef & { deletion: 'soft' | 'hard' })[];
  restored: ObjectRef[];
  changed: ObjectChange[];
}

export interface DiffFilter {
  type?: string;
  objectId?: string;
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ref = (e: SnapshotEntry): ObjectRef => ({ id: e.id, displayName: e.displayName });
/** Objects decoded per batch: bounded memory whatever the number of changes. */
const BATCH = 500;
/** Relationship comparisons in flight at once. */
const RELATIONSHIP_READS = 16;

/** `fn` over `items` with at most `limit` calls running; results in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * The difference between two snapshots of a tenant (any two, in either order). Manifests are compared first (an
 * unchanged type reuses its manifest id and costs nothing), then entries by content hash and relationship ids; only
 * objects and relationships that differ are read and decoded.
 */
export async function diffSnapshots(source: DiffSource, filter: DiffFilter = {}): Promise<TypeDiff[]> {
  const [from, to] = await Promise.all([source.coverage('from'), source.coverage('to')]);
  const types = [...new Set([...Object.keys(from), ...Object.keys(to)])]
    .filter((t) => !filter.type || t === filter.type)
    .sort();
  const result: TypeDiff[] = [];
  for (const type of types) {
    const a = from[type];
    const b = to[type];
    const diff: TypeDiff = { type, comparable: true, added: [], removed: [], restored: [], changed: [] };
    result.push(diff);
    if (!a || !b || 'skipped' in a || 'skipped' in b) {
      diff.comparable = false;
      diff.reason = [
        !a ? 'not in the first snapshot' : 'skipped' in a ? `skipped in the first snapshot (${a.skipped})` : '',
        !b ? 'not in the second snapshot' : 'skipped' in b ? `skipped in the second snapshot (${b.skipped})` : '',
      ]
        .filter(Boolean)
        .join('; ');
      continue;
    }
    if (a.manifest === b.manifest) continue;
    await diffType(source, type, filter.objectId, diff);
  }
  return result;
}

async function diffType(source: DiffSource, type: string, objectId: string | undefined, diff: TypeDiff) {
  // Only the entries that may differ, when the manifests' diff chain names them: O(changes), not O(objects).
  const ids = objectId !== undefined ? new Set([objectId]) : await source.candidates?.(type);
  const [before, after] = await Promise.all([source.entries('from', type, ids), source.entries('to', type, ids)]);
  const pick = (m: ReadonlyMap<string, SnapshotEntry>) =>
    objectId ? [m.get(objectId)].filter((e): e is SnapshotEntry => e !== undefined) : [...m.values()];
  const candidates: [SnapshotEntry, SnapshotEntry][] = [];
  for (const old of pick(before)) {
    const now = after.get(old.id);
    if (!now) {
      diff.removed.push({ ...ref(old), deletion: 'hard' });
      continue;
    }
    if (old.state === 'present' && now.state === 'softDeleted') diff.removed.push({ ...ref(now), deletion: 'soft' });
    if (old.state === 'softDeleted' && now.state === 'present') diff.restored.push(ref(now));
    if (old.contentHash !== now.contentHash || !sameRels(old.rels, now.rels)) candidates.push([old, now]);
  }
  for (const now of pick(after)) if (!before.has(now.id)) diff.added.push(ref(now));
  candidates.sort(([x], [y]) => byId(x, y));
  for (let i = 0; i < candidates.length; i += BATCH) {
    const batch = candidates.slice(i, i + BATCH);
    const changedContent = batch.filter(([old, now]) => old.contentHash !== now.contentHash);
    const [olds, nows] = await Promise.all([
      source.readObjects(
        'from',
        type,
        changedContent.map(([old]) => old),
      ),
      source.readObjects(
        'to',
        type,
        changedContent.map(([, now]) => now),
      ),
    ]);
    // Relationship lists are separate blobs, each one read: many at once, or a diff of many groups waits on each.
    const rels = await mapConcurrently(batch, RELATIONSHIP_READS, ([old, now]) => diffRels(source, type, old, now));
    batch.forEach(([old, now], k) => {
      const attributes =
        old.contentHash === now.contentHash
          ? []
          : diffObjects(
              olds.get(old.contentHash)!,
              nows.get(now.contentHash)!,
              source.unorderedArrays(type),
              source.ignoredProperties(type),
            );
      const relationships = rels[k];
      if (attributes.length > 0 || relationships.length > 0) {
        diff.changed.push({ ...ref(now), attributes, relationships });
      }
    });
  }
  diff.added.sort(byId);
  diff.removed.sort(byId);
  diff.restored.sort(byId);
}

function sameRels(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

async function diffRels(
  source: DiffSource,
  type: string,
  old: SnapshotEntry,
  now: SnapshotEntry,
): Promise<RelationshipChange[]> {
  const out: RelationshipChange[] = [];
  const names = [...new Set([...Object.keys(old.rels ?? {}), ...Object.keys(now.rels ?? {})])].sort();
  for (const name of names) {
    const a = old.rels?.[name];
    const b = now.rels?.[name];
    if (a === b) continue;
    const [before, after] = await Promise.all([
      a ? source.readRelationship('from', a) : [],
      b ? source.readRelationship('to', b) : [],
    ]);
    const items = diffRelationshipItems(before, after);
    if (items.added.length + items.removed.length + items.changed.length === 0) continue;
    const [added, removed, changed] = await Promise.all([
      source.describe('to', type, name, now.id, items.added),
      source.describe('from', type, name, old.id, items.removed),
      source.describe('to', type, name, now.id, items.changed),
    ]);
    out.push({ relationship: name, added, removed, changed });
  }
  return out;
}
