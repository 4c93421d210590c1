import { stableJson } from './stable-json';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * One attribute-level change of an object. `value`: the property at `path` went from `old` to `new` (a side that is
 * absent means "not set"). `set`: an unordered array (declared in catalog/comparison.ts) gained and lost items; its
 * order is not compared.
 */
export type AttributeChange =
  | { path: string; kind: 'value'; old?: Json; new?: Json }
  | { path: string; kind: 'set'; added: Json[]; removed: Json[] };

const isPlainObject = (v: unknown): v is Record<string, Json> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** `a.b[].c` → the same path with any `[n]` index written `[]`, as catalog/comparison.ts declares set paths. */
const shapeOf = (path: string) => path.replace(/\[\d+\]/g, '[]');

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * The value with every declared set sorted (by stable JSON of its normalised items), so that two readings of the same
 * object that differ only in the order of a set compare equal, also inside the items of an array of objects.
 */
function normalise(value: Json | undefined, path: string, sets: ReadonlySet<string>): Json | undefined {
  if (Array.isArray(value)) {
    const items = value.map((item, i) => normalise(item, `${path}[${i}]`, sets) as Json);
    if (!sets.has(shapeOf(path))) return items;
    return items
      .map((item) => ({ item, key: stableJson(item) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ item }) => item);
  }
  if (isPlainObject(value)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalise(v, join(path, k), sets);
      if (n !== undefined) out[k] = n;
    }
    return out;
  }
  return value;
}

function compare(
  a: Json | undefined,
  b: Json | undefined,
  path: string,
  sets: ReadonlySet<string>,
  out: AttributeChange[],
): void {
  if (stableJson(a) === stableJson(b) && (a === undefined) === (b === undefined)) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) compare(a[key], b[key], join(path, key), sets, out);
    return;
  }
  if (sets.has(shapeOf(path)) && (Array.isArray(a) || a === undefined) && (Array.isArray(b) || b === undefined)) {
    const count = (items: Json[] | undefined) => {
      const m = new Map<string, { item: Json; n: number }>();
      for (const item of items ?? []) {
        const key = stableJson(item);
        const e = m.get(key);
        if (e) e.n++;
        else m.set(key, { item, n: 1 });
      }
      return m;
    };
    const before = count(a as Json[] | undefined);
    const after = count(b as Json[] | undefined);
    const minus = (x: typeof before, y: typeof before) =>
      [...x]
        .sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0))
        .flatMap(([key, { item, n }]) => Array<Json>(Math.max(0, n - (y.get(key)?.n ?? 0))).fill(item));
    const added = minus(after, before);
    const removed = minus(before, after);
    // An array that appears empty where it was unset (or the reverse) is a set change with nothing in it: a value.
    if (added.length > 0 || removed.length > 0) {
      out.push({ path, kind: 'set', added, removed });
      return;
    }
  }
  const change: AttributeChange = { path, kind: 'value' };
  if (a !== undefined) change.old = a;
  if (b !== undefined) change.new = b;
  out.push(change);
}

/**
 * Attribute-level changes from `before` to `after`: nested objects are compared property by property (a change is
 * named by its dotted path), arrays declared in `unorderedArrays` as sets (items added and removed, order ignored),
 * any other array as one value. `ignoredProperties` (top-level names) are left out. Pure; restore uses it to build the
 * PATCH of a changed object.
 */
export function diffObjects(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  unorderedArrays: readonly string[] = [],
  ignoredProperties: readonly string[] = [],
): AttributeChange[] {
  const sets = new Set(unorderedArrays);
  const out: AttributeChange[] = [];
  compare(normalise(before as Json, '', sets), normalise(after as Json, '', sets), '', sets, out);
  return ignoredProperties.length === 0 ? out : out.filter((c) => !ignoredProperties.includes(c.path.split('.')[0]));
}

/** The same changes seen from the other side (B → A from A → B). */
export function invertAttributeChanges(changes: readonly AttributeChange[]): AttributeChange[] {
  return changes.map((c) => {
    if (c.kind === 'set') return { path: c.path, kind: 'set', added: c.removed, removed: c.added };
    const inverted: AttributeChange = { path: c.path, kind: 'value' };
    if (c.new !== undefined) inverted.old = c.new;
    if (c.old !== undefined) inverted.new = c.old;
    return inverted;
  });
}
