import assert from 'node:assert/strict';
import { inHousekeepingWindow } from '../../activities/backup/retention';
import { retentionTiming } from '../../workflow-constants';

describe('retention housekeeping prune', () => {
  const week = retentionTiming.pruneEveryMs;
  const days = (tenantId: string, from: number, count: number) =>
    Array.from({ length: count }, (_, i) => new Date(from + i * 86_400_000 + 3_600_000).toISOString()).filter((now) =>
      inHousekeepingWindow(tenantId, now, week),
    );

  it('prunes each tenant on exactly one day of every week, the same weekday each week', () => {
    const start = Date.parse('2026-01-05T00:00:00Z');
    const hits = days('tenant-a', start, 28);
    assert.equal(hits.length, 4);
    const gaps = hits.slice(1).map((d, i) => Date.parse(d) - Date.parse(hits[i]));
    assert.deepEqual(gaps, [week, week, week]);
  });

  it('spreads tenants over the week rather than pruning all on one day', () => {
    const start = Date.parse('2026-01-05T00:00:00Z');
    const weekdays = new Set(
      Array.from({ length: 50 }, (_, i) => new Date(days(`tenant-${i}`, start, 7)[0]).getUTCDay()),
    );
    assert.ok(weekdays.size >= 5, `50 tenants prune on ${weekdays.size} different weekdays`);
  });

  it('prunes every time when the period is a day or less', () => {
    assert.equal(inHousekeepingWindow('t', new Date().toISOString(), 86_400_000), true);
  });
});
