import assert from 'node:assert/strict';
import { batchesToFillBudget } from '../../activities/backup/tenant-graph-reader';
import { RESOURCE_UNITS_PER_WINDOW } from '../../microsoft/graph-throttle-limits';

describe('relationship batches in flight', () => {
  // Size L at the pacer's 95 %: 760 RU a second; a batch of 20 member lists costs about 20 RU.
  const perSecond = (RESOURCE_UNITS_PER_WINDOW.L * 0.95) / 10;

  it('keeps the lower bound where Graph answers fast (the flat model: about 0.1 s a batch)', () => {
    assert.equal(batchesToFillBudget(perSecond, 0.1, 20), 8);
  });

  it('adds lanes as batches take longer, so the budget stays busy (the field model: about 1.15 s a batch)', () => {
    const lanes = batchesToFillBudget(perSecond, 1.15, 20);
    assert.equal(lanes, 44);
    // Those lanes release the budget's RU a second at that latency; the lower bound would use a fifth of it.
    assert.ok((lanes * 20) / 1.15 >= perSecond);
    assert.ok((8 * 20) / 1.15 < perSecond / 4);
  });

  it('stays within its upper bound however slow Graph is, and at the lower bound before anything was measured', () => {
    assert.equal(batchesToFillBudget(perSecond, 30, 20), 48);
    assert.equal(batchesToFillBudget(perSecond, 0, 0), 8);
  });
});
