import assert from 'node:assert/strict';
import { dailyBackupOffsetSeconds } from '../../activities/schedules';

describe('daily backup schedules: spread over the day', () => {
  it('gives each tenant a stable time of day, and 2,000 tenants onboarded at once fill every hour', () => {
    // Sequential ids, the least random input: similar ids must still land far apart.
    const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const perHour = new Array<number>(24).fill(0);
    for (const id of ids) {
      const offset = dailyBackupOffsetSeconds(id);
      assert.equal(dailyBackupOffsetSeconds(id), offset, 'the same tenant gets the same time on every call');
      assert.ok(Number.isInteger(offset) && offset >= 0 && offset < 86_400, `offset ${offset}`);
      perHour[Math.floor(offset / 3600)]++;
    }
    // 2000 / 24 ≈ 83 per hour; a uniform spread stays well inside 40..130 (far beyond 5 standard deviations).
    for (const [hour, count] of perHour.entries()) assert.ok(count > 40 && count < 130, `hour ${hour}: ${count}`);
    // Not the creation time: tenants created in the same second still start in different hours.
    assert.ok(new Set(ids.slice(0, 50).map((id) => Math.floor(dailyBackupOffsetSeconds(id) / 3600))).size > 15);
  });
});
