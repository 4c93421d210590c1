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
 * What one long member list's plan may spend. Its counts (`/groups/{id}/members/microsoft.graph.user/$count`, 3 RU
 * each) are charged like pages of members, and a tenant has several long lists: 600 counts a list cost more RU than
 * the pages they replaced. The first characters (44 counts) and two heavy ones split once fit in this.
 */
export const MEMBER_LIST_PLAN = { targetPartitions: 16, maxCountRequests: 140 } as const;
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
  options: { total?: number; targetPartitions?: number; maxCountRequests?: number } = {},
): Promise<PartitionPlan | undefined> {
  if (!partition) return undefined;
  const total = options.total ?? (await count());
  if (total <= PARTITION_ABOVE) return undefined;
  const share = Math.max(MIN_PARTITION, Math.ceil(total / (options.targetPartitions ?? TARGET_PARTITIONS)));
  let budget = options.maxCountRequests ?? MAX_COUNT_REQUESTS;
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

/**
 * Whether long lists are read in partitions: `auto` when the engine's measurements say the page-by-page read would be
 * the backup's latency bound (partitionWorthIt), `always` above PARTITION_ABOVE objects (BACKUP_PARTITIONED_LISTING,
 * for tests of the partitioned read under a fast model), `never`.
 */
export type PartitioningMode = 'auto' | 'always' | 'never';

/**
 * RU a backup spends per object of its largest list, assumed to bound the backup's throttle-bound time from below:
 * the benchmark's full backup of a 100,000-user tenant spent 15,114 RU (README, flat model), 0.15 a user; the other
 * types' reads (groups with their members and owners, applications, …) grow with the tenant. A tenant with fewer
 * groups per user has a shorter throttle bound and is partitioned sooner, which is what it needs.
 */
const BACKUP_RU_PER_OBJECT = 0.15;
/** "Clearly longer": the sequential read must exceed the throttle-bound estimate by this factor to be partitioned. */
const LATENCY_MARGIN = 2;

/** What the engine measured of one long list before deciding how to read it. */
export interface ListingFigures {
  /** Objects the list holds (Graph's count). */
  objects: number;
  /** Objects on its first page, as Graph answered it (999, 120 under a cap, …): the page size assumed for the rest. */
  pageSize: number;
  /** Seconds a page of it took (measured, pacer wait included). */
  pageSeconds: number;
  /** The pacer's budget as RU per second (budget × target utilisation ÷ window). */
  budgetRuPerSecond: number;
}

export interface ListingDecision {
  partition: boolean;
  /** Pages × measured page time: how long the page-by-page read takes. */
  sequentialSeconds: number;
  /** The backup's throttle-bound time as estimated from the list's size and the budget. */
  throttleBoundSeconds: number;
}

/**
 * Partition a long list only when reading it page by page would be the latency bound of the backup: when its pages
 * one after another take clearly longer than the pacer's budget needs for the whole backup. Under a fast Graph
 * (0.1 s a page) 100,000 users are 10 s of pages against a 20 s throttle bound: partitioning would only add counts
 * (RU) to a budget-bound backup. Under the field's latency (about 1.15 s a page of 999) they are 116 s: the chain is
 * the bound and partitions shorten it to seconds. Both sides grow with the list, so at size L's budget (760 RU a
 * second) the rule reads: partition when a page of 999 takes longer than about 0.39 s (2 × 999 × 0.15 ÷ 760).
 */
export function partitionWorthIt(f: ListingFigures): ListingDecision {
  const pages = Math.ceil(f.objects / Math.max(1, f.pageSize));
  const sequentialSeconds = pages * f.pageSeconds;
  const throttleBoundSeconds = (f.objects * BACKUP_RU_PER_OBJECT) / Math.max(1e-9, f.budgetRuPerSecond);
  const partition = f.objects > PARTITION_ABOVE && sequentialSeconds > LATENCY_MARGIN * throttleBoundSeconds;
  return { partition, sequentialSeconds, throttleBoundSeconds };
}
