import { EntityKind, StoredObject } from './types';
import { PrefixIndex } from './prefix-index';

/** What the index reads of a tenant (TenantStore; an interface, so the two modules do not import each other). */
export interface IndexedStore {
  list(kind: EntityKind): StoredObject[];
  readonly members: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Memoised `startswith` answers of one tenant: per kind and property a PrefixIndex, per group its members' positions.
 * TenantStore drops what a write makes stale (invalidateKind on create/delete/restore and on an update of an indexed
 * property, invalidateMembers on a member added or removed); the next request rebuilds it. Answers are exactly those of
 * the brute-force filter (test/simulator/startswith-index.test.ts), in the same order.
 */
export class StartsWithIndex {
  /** `${kind}\0${prop}` → index over list(kind). */
  private readonly byKind = new Map<string, PrefixIndex>();
  /** group id → member id → position in the member set's (insertion) order. */
  private readonly memberOrder = new Map<string, Map<string, number>>();

  constructor(private readonly store: IndexedStore) {}

  /** Objects of `kind` were created, deleted or restored, or `props` of one changed (undefined: any property). */
  invalidateKind(kind: EntityKind, props?: Iterable<string>): void {
    if (props === undefined) {
      for (const key of this.byKind.keys()) if (key.startsWith(`${kind}\0`)) this.byKind.delete(key);
      return;
    }
    for (const prop of props) this.byKind.delete(`${kind}\0${prop}`);
  }

  invalidateMembers(groupId: string): void {
    this.memberOrder.delete(groupId);
  }

  private index(kind: EntityKind, prop: string): PrefixIndex {
    const key = `${kind}\0${prop}`;
    let index = this.byKind.get(key);
    if (!index) this.byKind.set(key, (index = new PrefixIndex(this.store.list(kind), prop)));
    return index;
  }

  /** Live objects of `kind` whose `prop` starts with `prefix` (lower-cased), in list(kind) order. */
  objects(kind: EntityKind, prop: string, prefix: string): StoredObject[] {
    return this.index(kind, prop).matches(prefix);
  }

  count(kind: EntityKind, prop: string, prefix: string): number {
    return this.index(kind, prop).count(prefix);
  }

  /**
   * Live members of `kind` of a group whose `prop` starts with `prefix`, in the member set's order; undefined when the
   * group has fewer members than the kind has matching objects (scanning the members is then the cheaper answer).
   */
  members(groupId: string, kind: EntityKind, prop: string, prefix: string): StoredObject[] | undefined {
    const ids = this.store.members.get(groupId);
    const index = this.index(kind, prop);
    if (!ids || ids.size < index.count(prefix)) return undefined;
    let order = this.memberOrder.get(groupId);
    if (!order) {
      order = new Map();
      let i = 0;
      for (const id of ids) order.set(id, i++);
      this.memberOrder.set(groupId, order);
    }
    const found: [number, StoredObject][] = [];
    for (const o of index.unordered(prefix)) {
      const at = order.get(o.id);
      if (at !== undefined) found.push([at, o]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, o]) => o);
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
