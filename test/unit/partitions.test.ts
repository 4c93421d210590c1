import assert from 'node:assert/strict';
import { getObjectType, type ObjectTypeSpec } from '../../catalog';
import { listingComplete, partitionUrl, planPartitions, PARTITION_ABOVE } from '../../activities/backup/partitions';

/** Graph's `$count` over a set of keys: `startswith` compares case-insensitively. */
const counter = (keys: string[]) => async (prefix?: string) =>
  prefix === undefined ? keys.length : keys.filter((k) => k.toLowerCase().startsWith(prefix.toLowerCase())).length;

/** Keys spread unevenly: most under a few letters, some under digits and punctuation. */
function unevenKeys(n: number): string[] {
  const heads = ['james', 'jane', 'john', 'mary', 'm', 'zoe', '7eleven', '0', "o'brien", '_svc', '-x', '#ext', '~t'];
  // Squaring a spread fraction favours the first heads: uneven, yet every head is used.
  const head = (i: number) => heads[Math.floor((((i * 7919) % 1000) / 1000) ** 2 * heads.length)];
  return Array.from({ length: n }, (_, i) => `${head(i)}${i}@contoso.com`);
}

/** Which keys each planned partition holds: every key exactly once when the plan is complete. */
function assign(keys: string[], prefixes: string[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const k of keys)
    for (const p of prefixes) if (k.toLowerCase().startsWith(p)) seen.set(k, (seen.get(k) ?? 0) + 1);
  return seen;
}

describe('partitioned listing plan', () => {
  const users = getObjectType('users');

  it('reads a small type in one listing', async () => {
    assert.equal(await planPartitions(users.partitionBy, counter(unevenKeys(PARTITION_ABOVE))), undefined);
  });

  it('covers every key of an uneven tenant exactly once, splitting heavy prefixes', async () => {
    const keys = unevenKeys(20_000);
    const plan = (await planPartitions(users.partitionBy, counter(keys)))!;
    assert.equal(plan.total, 20_000);
    assert.equal(plan.covered, 20_000);
    const seen = assign(keys, plan.prefixes);
    assert.equal(seen.size, keys.length);
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'partitions are disjoint',
    );
    assert.ok(
      plan.prefixes.some((p) => p.length > 1),
      'a heavy first letter is split by the next character',
    );
  });

  it('splits a tenant whose keys all begin with one letter', async () => {
    const keys = Array.from({ length: 9000 }, (_, i) => `j${(i * 7919).toString(36)}@contoso.com`);
    const plan = (await planPartitions(users.partitionBy, counter(keys)))!;
    assert.equal(plan.covered, plan.total);
    assert.ok(plan.prefixes.length > 10, plan.prefixes.join(','));
  });

  it('fails the coverage check when the partitioning misses keys by construction', async () => {
    const keys = unevenKeys(20_000);
    // A partitioning that leaves out every key starting with a digit.
    const withoutDigits: ObjectTypeSpec = {
      ...users,
      partitionBy: { ...users.partitionBy!, first: users.partitionBy!.first.replace(/[0-9]/g, '') },
    };
    const plan = (await planPartitions(withoutDigits.partitionBy, counter(keys)))!;
    const digits = keys.filter((k) => /^[0-9]/.test(k)).length;
    assert.ok(digits > 0);
    assert.equal(plan.total - plan.covered, digits);
  });

  it('fails the listing check when fewer objects were read than Graph counted', () => {
    assert.equal(listingComplete(100, 100, 100), true);
    assert.equal(listingComplete(99, 100, 100), false);
    // Created during the listing and not seen, or deleted during it and seen: the smaller count is what must be read.
    assert.equal(listingComplete(100, 100, 101), true);
    assert.equal(listingComplete(99, 100, 99), true);
  });

  it('escapes quotes and URL characters of a prefix', () => {
    const url = partitionUrl(users, "o'#", 'https://graph.example/v1.0');
    assert.ok(url.startsWith('https://graph.example/v1.0/users?$select='), url);
    const filter = new URL(url).searchParams.get('$filter');
    assert.equal(filter, "startswith(userPrincipalName,'o''#')");
  });
});
