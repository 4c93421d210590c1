import { StoredObject } from './types';

/**
 * The objects of one list sorted by one string property, lower-cased: `startswith(prop,'p')` (case-insensitive, as
 * graph/query.ts matches it) selects one contiguous run of it, found by binary search. A partitioned backup asks a
 * 100,000-user tenant hundreds of such counts and pages (issue 16); filtering every object for each of them made the
 * simulator's CPU, not Graph's modelled latency, the bound of a benchmark.
 *
 * Built for one version of the list (TenantStore drops it on any write to the kind); answers keep the list's order,
 * so paging over them is the same as over the brute-force filter.
 */
export class PrefixIndex {
  /** Lower-cased values, ascending (UTF-16 code-unit order, the order `<` compares strings in). */
  private readonly keys: string[];
  /** Position in `items` of the object holding keys[i]. */
  private readonly positions: Uint32Array;

  constructor(
    private readonly items: readonly StoredObject[],
    prop: string,
  ) {
    const lowered: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const v = items[i].data[prop];
      // Only string values can match startswith (graph/query.ts parseFilter).
      if (typeof v !== 'string') continue;
      lowered.push(v.toLowerCase());
      at.push(i);
    }
    const order = Array.from(lowered.keys()).sort((a, b) =>
      lowered[a] < lowered[b] ? -1 : lowered[a] > lowered[b] ? 1 : at[a] - at[b],
    );
    this.keys = order.map((i) => lowered[i]);
    this.positions = Uint32Array.from(order, (i) => at[i]);
  }

  /** [start, end) of the keys starting with `prefix` (lower-cased by the caller). */
  range(prefix: string): [number, number] {
    const { keys } = this;
    // Every key starting with `prefix` is >= it, and they follow one another: first key >= prefix, then the first one
    // after it that does not start with it.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const start = lo;
    hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid].startsWith(prefix)) lo = mid + 1;
      else hi = mid;
    }
    return [start, lo];
  }

  count(prefix: string): number {
    const [start, end] = this.range(prefix);
    return end - start;
  }

  /** The objects whose value starts with `prefix`, in the list's order. */
  matches(prefix: string): StoredObject[] {
    const [start, end] = this.range(prefix);
    // A typed array sorts numerically.
    return Array.from(this.positions.slice(start, end).sort(), (p) => this.items[p]);
  }

  /** The objects whose value starts with `prefix`, in no particular order (for counting and for intersecting). */
  *unordered(prefix: string): Generator<StoredObject> {
    const [start, end] = this.range(prefix);
    for (let i = start; i < end; i++) yield this.items[this.positions[i]];
  }
}
