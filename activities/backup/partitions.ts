import pLimit from 'p-limit';
import { firstPageUrl, type ObjectTypeSpec, type PartitionSpec } from '../../catalog';

/**
 * Partitioned listing of a large type. Reading 100,000 users page after page is bound by Graph's latency (about a
 * second a page of 999), not by its budget (a page costs 1 resource unit): the listing is cut into
 * `startswith(property,'prefix')` listings read in parallel. The cut is decided from counts Graph gives
 * (`/{set}/$count?$filter=…`), never configured per tenant, and its completeness is checked, not assumed.
 */

/** Below this many objects one listing is a handful of pages: partitioning would only add requests. */
export const PARTITION_ABOVE = 4000;
/** Partitions aimed at: enough for the pacer's budget to be the bound, few enough that counting them stays cheap. */
const TARGET_PARTITIONS = 48;
/** A partition this small is read in a page or two whatever its share. */
const MIN_PARTITION = 1000;
/** Prefix length at which a heavy prefix is no longer split (it is read as one listing). */
const MAX_DEPTH = 3;
/** Count requests one plan may spend on splitting heavy prefixes. */
const MAX_COUNT_REQUESTS = 600;
/**
 * Count requests in flight at once. Each answers in Graph's base latency (about 150 ms, no objects returned), and a
 * 100,000-user plan spends hundreds: eight at a time made planning take longer than the listing it plans. Hundreds at
 * once would only queue up connections.
 */
const COUNTS_IN_FLIGHT = 32;

export interface PartitionPlan {
  /** Objects of the type, by Graph's count before the listing. */
  total: number;
  /** Prefixes read one listing each; disjoint by construction (no prefix is a prefix of another). */
  prefixes: string[];
  /** Objects under the prefixes, by the same counts: equal to `total` when the prefixes cover every object. */
  covered: number;
}

/** `$filter` for one partition; quotes doubled and the expression encoded for the URL (`#`, `^`, `'`). */
export function partitionFilter(partition: PartitionSpec, prefix: string): string {
  return encodeURIComponent(`startswith(${partition.property},'${prefix.replace(/'/g, "''")}')`);
}

/** First page of one partition's listing: the type's usual list URL and the partition's filter. */
export function partitionUrl(spec: ObjectTypeSpec, prefix: string, baseUrl: string): string {
  const url = firstPageUrl(spec.key, { baseUrl });
  return `${url}${url.includes('?') ? '&' : '?'}$filter=${partitionFilter(spec.partitionBy!, prefix)}`;
}

/** `/{set}/$count` URL, for the whole type or one prefix. */
export function countUrl(spec: ObjectTypeSpec, baseUrl: string, prefix?: string): string {
  const url = `${baseUrl}${spec.path}/$count`;
  return prefix === undefined ? url : `${url}?$filter=${partitionFilter(spec.partitionBy!, prefix)}`;
}

/**
 * Plans the partitions of a full read (of a type, or of a long relationship list) from Graph's counts, or answers undefined when the type is small
 * enough (or not partitionable) to be read in one listing. A prefix holding more than its share is split by the next
 * character, up to MAX_DEPTH characters; prefixes Graph counts nothing under are left out (the coverage check is what
 * proves that nothing lies outside the rest).
 */
export async function planPartitions(
  partition: PartitionSpec | undefined,
  count: (prefix?: string) => Promise<number>,
): Promise<PartitionPlan | undefined> {
  if (!partition) return undefined;
  const total = await count();
  if (total <= PARTITION_ABOVE) return undefined;
  const share = Math.max(MIN_PARTITION, Math.ceil(total / TARGET_PARTITIONS));
  let budget = MAX_COUNT_REQUESTS;
  const lanes = pLimit(COUNTS_IN_FLIGHT);
  const prefixes: string[] = [];
  let covered = 0;
  let level = [...partition.first];
  while (level.length > 0) {
    budget -= level.length;
    const counts = await Promise.all(level.map((prefix) => lanes(() => count(prefix))));
    const heavy: string[] = [];
    for (const [i, prefix] of level.entries()) {
      const n = counts[i];
      if (n === 0) continue;
      const children = partition.next.length;
      if (n > share && prefix.length < MAX_DEPTH && budget - heavy.length * children >= children) {
        heavy.push(prefix);
        continue;
      }
      prefixes.push(prefix);
      covered += n;
    }
    level = heavy.flatMap((prefix) => [...partition.next].map((c) => prefix + c));
  }
  return { total, prefixes, covered };
}

/**
 * Did the partitioned listing see every object? `read` objects came back from the partitions (disjoint); Graph counted
 * `before` objects when the listing started and `after` when it ended. Objects created during the listing may or may
 * not be read, objects deleted during it may or may not be, so at least the smaller count must have been read: fewer
 * means objects lie outside every partition. (What changed during the listing comes back in the delta round started
 * before it.) Counts are eventually consistent: a lagging count can only fail the check, which costs a plain re-read.
 */
export function listingComplete(read: number, before: number, after: number): boolean {
  return read >= Math.min(before, after);
}
