import pLimit from 'p-limit';
import type { RelationshipPartitionSpec, RelationshipSpec } from '../../catalog';
import type { GraphReader, LongListReader } from './graph-reader';
import {
  listingComplete,
  MEMBER_LIST_PLAN,
  partitionFilter,
  partitionWorthIt,
  planPartitions,
  type ListingDecision,
  type PartitioningMode,
} from './partitions';

/**
 * Long relationship lists read in parallel. An all-users group's members come back 999 a page, and each page can only
 * be asked for once the one before it has answered: 100,000 members are a chain of 100 requests of about a second
 * each under Graph's latency, however much of the throttle budget is left. Graph filters a relationship by an OData
 * cast with `$filter` as an advanced query (https://learn.microsoft.com/graph/api/group-list-members, examples "Use
 * OData cast to get only members that are users" and "Use $filter to get members …"; `$count=true` and
 * `ConsistencyLevel: eventual`, https://learn.microsoft.com/graph/aad-advanced-queries), so the users among the
 * members are read in `startswith` partitions planned from counts, and the other member types whole, all at once.
 * Completeness is checked against Graph's count of the whole list; a shortfall reads the list page after page.
 * Only a list whose page-by-page read would be the backup's latency bound is partitioned (partitionWorthIt, from the
 * list's count and its second page's time): under a fast Graph a 100-page list is read in the shadow of a budget-bound
 * backup, and its plan's counts (3 RU each) would cost more than the pages they replace.
 */

/** Partition listings of one list in flight at once (the pacer still holds them to the budget). */
const PARTITIONS_IN_FLIGHT = 16;

export interface LongRelationshipOptions {
  /** `auto`: partition only when the page-by-page read would be the backup's latency bound (the default). */
  mode?: PartitioningMode;
  /** Why a partitioned read gave way to the page-by-page one. */
  onFallback?: (reason: string) => void;
  /** How the list was read and from what figures (auto mode). */
  onDecision?: (decision: ListingDecision) => void;
}

/** A reader for the long lists of `rel` of one parent, or undefined when the relationship is read page by page. */
export function longRelationshipReader(
  graph: GraphReader,
  rel: RelationshipSpec,
  parentId: string,
  options: LongRelationshipOptions = {},
): LongListReader | undefined {
  const partition = rel.partitionBy;
  const mode = options.mode ?? 'auto';
  if (!partition || mode === 'never') return undefined;
  const { onFallback } = options;
  const base = `${graph.rootUrl}${rel.path.replace('{id}', encodeURIComponent(parentId))}`;
  return async (first, next) => {
    let total: number;
    if (mode === 'auto') {
      // The second page, timed, while Graph counts the list: both are needed to tell a latency-bound list from one a
      // budget-bound backup reads in its shadow. Read page by page, the second page is not lost.
      const pages = graph.pages(next)[Symbol.asyncIterator]();
      const began = performance.now();
      const [counted, second] = await Promise.all([
        graph.count(`${base}/$count`),
        pages.next().then((r) => ({ r, seconds: (performance.now() - began) / 1000 })),
      ]);
      total = counted;
      const decision = partitionWorthIt({
        objects: total,
        pageSize: first.length,
        pageSeconds: second.seconds,
        budgetRuPerSecond: graph.budgetRuPerSecond(),
      });
      options.onDecision?.(decision);
      if (!decision.partition) {
        const items = [...first];
        for (let r = second.r; !r.done; r = await pages.next()) items.push(...r.value.value);
        return items;
      }
      // Partitioned: the page iterator is left where it is (no request is outstanding on it).
      await pages.return?.(undefined);
    } else total = await graph.count(`${base}/$count`);
    const plan = await planPartitions(
      partition.by,
      (prefix) => graph.count(castCountUrl(base, partition, prefix)),
      MEMBER_LIST_PLAN,
    );
    // Too short to be worth it: the page-by-page read is a few pages.
    if (!plan) return undefined;
    if (plan.covered < plan.total) {
      onFallback?.(`partitions cover ${plan.covered} of ${plan.total} items`);
      return undefined;
    }
    const lanes = pLimit(PARTITIONS_IN_FLIGHT);
    const urls = [
      ...plan.prefixes.map((prefix) => castListUrl(base, rel, partition.cast, partitionFilter(partition.by, prefix))),
      ...partition.otherCasts.map((cast) => castListUrl(base, rel, cast)),
    ];
    const casts = [...plan.prefixes.map(() => partition.cast), ...partition.otherCasts];
    const lists = await Promise.all(
      urls.map((url, i) =>
        lanes(async () => {
          // A cast list names no `@odata.type` (every item is of the cast's type): give each the one the plain list
          // gives it, so both reads store the same relationship.
          const type = `#${casts[i]}`;
          const items: Record<string, unknown>[] = [];
          for await (const page of graph.pages(url, { advanced: true }))
            for (const item of page.value) items.push({ '@odata.type': type, ...item });
          return items;
        }),
      ),
    );
    // Partitions are disjoint by construction; a user renamed during the read may still come back twice.
    const seen = new Set<string>();
    const all: Record<string, unknown>[] = [];
    for (const list of lists)
      for (const item of list) {
        const id = item.id as string;
        if (seen.has(id)) continue;
        seen.add(id);
        all.push(item);
      }
    const after = await graph.count(`${base}/$count`);
    if (!listingComplete(all.length, total, after)) {
      onFallback?.(`read ${all.length} items, Graph counted ${total} before and ${after} after`);
      return undefined;
    }
    return all;
  };
}

function castCountUrl(base: string, partition: RelationshipPartitionSpec, prefix?: string): string {
  const url = `${base}/${partition.cast}/$count`;
  return prefix === undefined ? url : `${url}?$filter=${partitionFilter(partition.by, prefix)}`;
}

function castListUrl(base: string, rel: RelationshipSpec, cast: string, filter?: string): string {
  const query = [`$select=${rel.select.join(',')}`, `$top=${rel.pageSize ?? 999}`, '$count=true'];
  if (filter) query.push(`$filter=${filter}`);
  return `${base}/${cast}?${query.join('&')}`;
}
