import { breathe } from './breather';

export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Below this, one plain sort holds the event loop for a millisecond or two at most. */
const SMALL = 4096;

/**
 * A copy of `items` sorted by id in UTF-16 code-unit order (as `<` compares strings). Sorting the 100,000 members of
 * an all-users group or the entries of a 100,000-user manifest in one go would hold the event loop (random GUIDs are
 * slow to compare); bucketed by their first two code units, each bucket is small, the buckets together take
 * about half the comparisons, and the event loop turns between them.
 */
export async function sortedById<T extends { id: string }>(items: readonly T[]): Promise<T[]> {
  if (items.length <= SMALL) return [...items].sort(byId);
  const buckets = new Map<number, T[]>();
  for (const item of items) {
    const id = item.id;
    // (first code unit, second code unit + 1, or 0 when there is none): ordered as the strings' prefixes are.
    const key = id.length === 0 ? -1 : id.charCodeAt(0) * 65537 + (id.length > 1 ? id.charCodeAt(1) + 1 : 0);
    const bucket = buckets.get(key);
    if (bucket) bucket.push(item);
    else buckets.set(key, [item]);
  }
  const sorted: T[] = [];
  for (const key of [...buckets.keys()].sort((a, b) => a - b)) {
    for (const item of buckets.get(key)!.sort(byId)) sorted.push(item);
    await breathe();
  }
  return sorted;
}
