import assert from 'node:assert/strict';
import { getObjectType } from '../../catalog';
import {
  MEMBER_LIST_PLAN,
  PARTITION_ABOVE,
  partitionWorthIt,
  planPartitions,
} from '../../activities/backup/partitions';
import { longRelationshipReader } from '../../activities/backup/relationship-partitions';
import type { GraphPage, GraphReader } from '../../activities/backup/graph-reader';
import { RESOURCE_UNITS_PER_WINDOW } from '../../microsoft/graph-throttle-limits';

/** Size L at the pacer's 95 %: 760 RU a second. */
const budgetRuPerSecond = (RESOURCE_UNITS_PER_WINDOW.L * 0.95) / 10;

describe('partitioning a long list only when its page-by-page read bounds the backup', () => {
  it('reads 100,000 users page by page under the fast flat model (about 0.1 s a page of 999)', () => {
    const d = partitionWorthIt({ objects: 100_000, pageSize: 999, pageSeconds: 0.1, budgetRuPerSecond });
    assert.equal(d.partition, false);
    // 101 pages one after another take about 10 s, within the ~20 s the budget needs for the backup anyway.
    assert.ok(Math.abs(d.sequentialSeconds - 10.1) < 0.01, String(d.sequentialSeconds));
    assert.ok(d.throttleBoundSeconds > 19 && d.throttleBoundSeconds < 21, String(d.throttleBoundSeconds));
    // Slower simulator pages (its CPU) still leave the chain shorter than twice the bound.
    assert.equal(
      partitionWorthIt({ objects: 100_000, pageSize: 999, pageSeconds: 0.3, budgetRuPerSecond }).partition,
      false,
    );
  });

  it('partitions them under the field model (about 1.15 s a page of 999) and the doubled one', () => {
    const field = partitionWorthIt({ objects: 100_000, pageSize: 999, pageSeconds: 1.15, budgetRuPerSecond });
    assert.equal(field.partition, true);
    assert.ok(field.sequentialSeconds > 100);
    assert.equal(
      partitionWorthIt({ objects: 100_000, pageSize: 120, pageSeconds: 2.5, budgetRuPerSecond }).partition,
      true,
    );
    assert.equal(
      partitionWorthIt({ objects: 20_000, pageSize: 999, pageSeconds: 1.15, budgetRuPerSecond }).partition,
      true,
    );
  });

  it('partitions a fast list whose pages are capped small enough to make it the bound (120 a page: 834 pages)', () => {
    assert.equal(
      partitionWorthIt({ objects: 100_000, pageSize: 120, pageSeconds: 0.1, budgetRuPerSecond }).partition,
      true,
    );
  });

  it('never partitions a list of 4,000 objects or fewer, however slow, and weighs a smaller budget', () => {
    assert.equal(
      partitionWorthIt({ objects: PARTITION_ABOVE, pageSize: 1, pageSeconds: 5, budgetRuPerSecond }).partition,
      false,
    );
    // Size S (3,500 RU per 10 s): the backup's throttle bound is longer, so a chain must be longer to matter.
    const small = (RESOURCE_UNITS_PER_WINDOW.S * 0.95) / 10;
    assert.equal(
      partitionWorthIt({ objects: 20_000, pageSize: 999, pageSeconds: 0.3, budgetRuPerSecond }).partition,
      false,
    );
    assert.ok(
      partitionWorthIt({ objects: 20_000, pageSize: 999, pageSeconds: 1, budgetRuPerSecond: small })
        .throttleBoundSeconds >
        partitionWorthIt({ objects: 20_000, pageSize: 999, pageSeconds: 1, budgetRuPerSecond }).throttleBoundSeconds,
    );
  });

  it('plans a member list with far fewer counts than a type listing', async () => {
    const spec = getObjectType('users').partitionBy!;
    // All under one letter: a type's plan splits it as deep as its 600 counts allow.
    const keys = Array.from({ length: 100_000 }, (_, i) => `j${(i * 7919).toString(36)}@contoso.com`);
    const counting = () => {
      let n = 0;
      const count = async (prefix?: string) => {
        n++;
        return prefix === undefined ? keys.length : keys.filter((k) => k.startsWith(prefix)).length;
      };
      return { count, spent: () => n };
    };
    const forType = counting();
    const typePlan = (await planPartitions(spec, forType.count))!;
    const forMembers = counting();
    const memberPlan = (await planPartitions(spec, forMembers.count, MEMBER_LIST_PLAN))!;
    assert.equal(memberPlan.covered, memberPlan.total);
    assert.ok(forMembers.spent() <= MEMBER_LIST_PLAN.maxCountRequests + 1, `${forMembers.spent()} counts`);
    assert.ok(forType.spent() > 2 * forMembers.spent(), `${forType.spent()} vs ${forMembers.spent()}`);
    assert.equal(typePlan.covered, typePlan.total);
  });
});

/**
 * A group's member list as Graph pages it (999 a page, each page answered after `pageMs`), with `$count` and the
 * partitioned reads of its users by `startswith`: enough of a GraphReader for longRelationshipReader.
 */
function memberListGraph(members: number, pageMs: number) {
  const root = 'https://graph.example/v1.0';
  const ids = Array.from({ length: members }, (_, i) => ({
    id: `u${i}`,
    upn: `${'abcdefghij'[i % 10]}${i}@contoso.com`,
  }));
  const requests: string[] = [];
  const wait = () => new Promise((r) => setTimeout(r, pageMs));
  const pageAt = (skip: number): GraphPage => ({
    value: ids.slice(skip, skip + 999).map((u) => ({ '@odata.type': '#microsoft.graph.user', id: u.id })),
    nextLink: skip + 999 < members ? `${root}/groups/g1/members?$skiptoken=${skip + 999}` : undefined,
  });
  const startsWith = (url: string) => /startswith\(userPrincipalName,'([^']*)'\)/.exec(decodeURIComponent(url))?.[1];
  const graph = {
    rootUrl: root,
    budgetRuPerSecond: () => budgetRuPerSecond,
    count: async (url: string) => {
      requests.push(url);
      const prefix = startsWith(url);
      return prefix === undefined ? members : ids.filter((u) => u.upn.startsWith(prefix)).length;
    },
    pages: (url: string) =>
      (async function* () {
        requests.push(url);
        const prefix = startsWith(url);
        if (url.includes('/microsoft.graph.user?')) {
          await wait();
          yield {
            value: ids.filter((u) => prefix !== undefined && u.upn.startsWith(prefix)).map((u) => ({ id: u.id })),
          };
          return;
        }
        if (url.includes('/microsoft.graph.')) {
          yield { value: [] };
          return;
        }
        for (let skip = Number(new URL(url).searchParams.get('$skiptoken')); ; skip += 999) {
          await wait();
          const page = pageAt(skip);
          yield page;
          if (!page.nextLink) return;
        }
      })(),
  } as unknown as GraphReader;
  return { graph, requests, first: pageAt(0), ids };
}

describe('a long member list decided from its measured second page', () => {
  const rel = getObjectType('groups').relationships.find((r) => r.key === 'members')!;

  it('reads 6,000 members page by page when pages come back fast: no partition counted or listed', async () => {
    const { graph, requests, first, ids } = memberListGraph(6000, 5);
    const decisions: boolean[] = [];
    const read = longRelationshipReader(graph, rel, 'g1', { onDecision: (d) => decisions.push(d.partition) })!;
    const items = (await read(first.value, first.nextLink!))!;
    assert.deepEqual(
      items.map((m) => m.id),
      ids.map((u) => u.id),
    );
    assert.deepEqual(decisions, [false]);
    assert.ok(!requests.some((u) => u.includes('startswith')), requests.join('\n'));
    assert.equal(requests.filter((u) => u.includes('/$count')).length, 1, 'one count of the whole list');
    assert.equal(requests.filter((u) => u === first.nextLink).length, 1, 'the timed second page is not read again');
  });

  it('reads them in partitions when a page takes long enough that the chain would bound the backup', async () => {
    // 7 pages at 0.35 s: 2.1 s one after another, against about 1.2 s of budget for a tenant of this size.
    const { graph, requests, first, ids } = memberListGraph(6000, 350);
    const decisions: boolean[] = [];
    const read = longRelationshipReader(graph, rel, 'g1', { onDecision: (d) => decisions.push(d.partition) })!;
    const items = (await read(first.value, first.nextLink!))!;
    assert.deepEqual(decisions, [true]);
    assert.deepEqual(items.map((m) => m.id).sort(), ids.map((u) => u.id).sort());
    assert.ok(requests.filter((u) => u.includes('startswith') && !u.includes('/$count')).length >= 10);
  });

  it('partitions whatever the latency when forced, and never when turned off', async () => {
    const forced = memberListGraph(6000, 0);
    const items = (await longRelationshipReader(forced.graph, rel, 'g1', { mode: 'always' })!(
      forced.first.value,
      forced.first.nextLink!,
    ))!;
    assert.equal(items.length, 6000);
    assert.ok(
      forced.requests.some((u) => u.includes('startswith') && !u.includes('/$count')),
      forced.requests.join('\n'),
    );
    assert.equal(longRelationshipReader(forced.graph, rel, 'g1', { mode: 'never' }), undefined);
  });
});
