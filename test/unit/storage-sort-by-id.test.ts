import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { byId, sortedById } from '../../storage/sort-by-id';

describe('storage: sorting by id', () => {
  it('orders as comparing the strings does, for GUIDs and odd ids alike, above and below the bucketing size', async () => {
    const odd = ['', 'a', 'a\u0000', 'a0', 'A', 'Z', 'é', '\ud83d\ude00', 'ab', 'aa', 'b', '0', '00', '1'];
    for (const n of [10, 20_000]) {
      const items = [...odd, ...Array.from({ length: n }, () => randomUUID())].map((id, i) => ({ id, i }));
      const expected = [...items].sort(byId);
      const sorted = await sortedById(items);
      assert.deepEqual(
        sorted.map((x) => x.id),
        expected.map((x) => x.id),
      );
      assert.equal(items[0].id, '', 'the input is left as it was');
    }
  });
});
