import { isCanonicalAsIs, markCanonicalAsIs } from './canonical-json';

/** Graph's annotations that describe the response or the delta round, not the object. */
const ROUND_ANNOTATIONS = /@delta$|^@removed$|^@odata\.(context|nextLink|deltaLink)$/;

/**
 * The object as stored: without response annotations, and without top-level properties whose value is null. A list
 * read returns a selected but unset property as null; a delta round omits it
 * (https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0). Both mean
 * "not set", so one form keeps the same version's content hash whichever way it was read.
 */
export function storedForm(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Built with its keys in canonical order (Graph sends id first), so canonicalJson can hand it to V8's serialiser.
  const { sorted, indexLike } = sortedKeys(item);
  let asIs = !indexLike;
  for (const k of sorted) {
    const v = item[k];
    // Annotations all contain '@'; most names do not, and skip the pattern.
    if (v === null || (k.includes('@') && ROUND_ANNOTATIONS.test(k))) continue;
    out[k] = v;
    if (asIs && typeof v !== 'string' && !isCanonicalAsIs(v)) asIs = false;
  }
  if (asIs) markCanonicalAsIs(out);
  return out;
}

/**
 * Object.keys(item), sorted. The items of one page share one key order, so the last order seen is
 * kept instead of sorting the same names again for every item. An index-like name ("0") enumerates first whatever the
 * insertion order, so an object with one is not canonical as built.
 */
function sortedKeys(item: Record<string, unknown>): { sorted: readonly string[]; indexLike: boolean } {
  const keys = Object.keys(item);
  const last = lastKeys;
  if (last && last.keys.length === keys.length && keys.every((k, i) => k === last.keys[i])) return last;
  lastKeys = { keys, sorted: [...keys].sort(), indexLike: keys.some((k) => /^\d/.test(k)) };
  return lastKeys;
}

let lastKeys: { keys: string[]; sorted: string[]; indexLike: boolean } | undefined;
