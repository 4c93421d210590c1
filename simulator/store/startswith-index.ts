import { EntityKind, StoredObject } from './types';
import { PrefixIndex } from './prefix-index';

/** What the index reads of a tenant (TenantStore; an interface, so the two modules do not import each other). */
export interface IndexedStore {
  list(kind: EntityKind): StoredObject[];
  /** Live objects by id. */
  readonly index: ReadonlyMap<string, StoredObject>;
  readonly members: ReadonlyMap<string, ReadonlySet<string>>;
}

/** List answers kept: the partitions read at once (16 a list, a few lists), with room to spare. */
const MAX_ANSWERS = 256;

/**
 * Memoised `startswith` answers of one tenant: per kind and property a PrefixIndex, per group its members' positions,
 * and the last lists answered. TenantStore drops what a write makes stale (invalidateKind on create/delete/restore and
 * on an update of an indexed property, invalidateMembers on a member added or removed); the next request rebuilds it. Answers are exactly those of
 * the brute-force filter (test/simulator/startswith-index.test.ts), in the same order.
 */
export class StartsWithIndex {
  /** `${kind}\0${prop}` → index over list(kind). */
  private readonly byKind = new Map<string, PrefixIndex>();
  /** group id → its member ids in the member set's (insertion) order, and each one's position there. */
  private readonly memberOrder = new Map<string, { ids: string[]; at: Map<string, number> }>();
  /**
   * Recent list answers (a partition is read page after page: each page would sort the same run again). Emptied by
   * every invalidation, whatever it names: writes are rare next to reads.
   */
  private readonly answers = new Map<string, readonly StoredObject[]>();

  constructor(private readonly store: IndexedStore) {}

  /** Objects of `kind` were created, deleted or restored, or `props` of one changed (undefined: any property). */
  invalidateKind(kind: EntityKind, props?: readonly string[]): void {
    if (props?.length === 0) return;
    this.answers.clear();
    if (props === undefined) {
      for (const key of this.byKind.keys()) if (key.startsWith(`${kind}\0`)) this.byKind.delete(key);
      return;
    }
    for (const prop of props) this.byKind.delete(`${kind}\0${prop}`);
  }

  invalidateMembers(groupId: string): void {
    this.memberOrder.delete(groupId);
    this.answers.clear();
  }

  private remember(
    key: string,
    answer: () => readonly StoredObject[] | undefined,
  ): readonly StoredObject[] | undefined {
    const known = this.answers.get(key);
    if (known) return known;
    const found = answer();
    if (found) {
      // Oldest first out: a Map iterates in insertion order.
      if (this.answers.size >= MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(key, found);
    }
    return found;
  }

  private index(kind: EntityKind, prop: string): PrefixIndex {
    const key = `${kind}\0${prop}`;
    let index = this.byKind.get(key);
    if (!index) this.byKind.set(key, (index = new PrefixIndex(this.store.list(kind), prop)));
    return index;
  }

  /** Live objects of `kind` whose `prop` starts with `prefix` (lower-cased), in list(kind) order. */
  objects(kind: EntityKind, prop: string, prefix: string): readonly StoredObject[] {
    return this.remember(`${kind}\0${prop}\0${prefix}`, () => this.index(kind, prop).matches(prefix))!;
  }

  count(kind: EntityKind, prop: string, prefix: string): number {
    return this.index(kind, prop).count(prefix);
  }

  /**
   * Live members of `kind` of a group whose `prop` starts with `prefix`, in the member set's order; undefined when the
   * group has fewer members than the kind has matching objects (scanning the members is then the cheaper answer).
   */
  members(groupId: string, kind: EntityKind, prop: string, prefix: string): readonly StoredObject[] | undefined {
    return this.remember(`${groupId}\0${kind}\0${prop}\0${prefix}`, () =>
      this.sortedMembers(groupId, kind, prop, prefix),
    );
  }

  private sortedMembers(groupId: string, kind: EntityKind, prop: string, prefix: string): StoredObject[] | undefined {
    const ids = this.store.members.get(groupId);
    const index = this.index(kind, prop);
    if (!ids || ids.size < index.count(prefix)) return undefined;
    let order = this.memberOrder.get(groupId);
    if (!order) {
      order = { ids: [...ids], at: new Map() };
      order.ids.forEach((id, i) => order!.at.set(id, i));
      this.memberOrder.set(groupId, order);
    }
    const found: number[] = [];
    for (const o of index.unordered(prefix)) {
      const at = order.at.get(o.id);
      if (at !== undefined) found.push(at);
    }
    // A typed array sorts numerically; each position names a live member of `kind` (it came from the index).
    const { ids: byPosition } = order;
    return Array.from(Uint32Array.from(found).sort(), (at) => this.store.index.get(byPosition[at])!);
  }

  /** How many members `members` would answer; undefined under the same condition. */
  countMembers(groupId: string, kind: EntityKind, prop: string, prefix: string): number | undefined {
    const ids = this.store.members.get(groupId);
    const index = this.index(kind, prop);
    if (!ids || ids.size < index.count(prefix)) return undefined;
    let n = 0;
    for (const o of index.unordered(prefix)) if (ids.has(o.id)) n++;
    return n;
  }
}
