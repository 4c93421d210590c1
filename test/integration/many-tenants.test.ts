import assert from 'node:assert/strict';
import { sharedTestStack } from '../helpers/stack';
import { runManyTenants } from '../../scripts/many-tenants';

// The size is 200 tenants of 500 users (MANY_TENANTS=200, about half an hour here); CI runs a smaller one.
const TENANTS = Number(process.env.MANY_TENANTS ?? 8);
const USERS = Number(process.env.MANY_TENANTS_USERS ?? 500);

describe('many tenants per worker', () => {
  it(`backs up ${TENANTS} tenants of ${USERS} users with one worker, in bounded and flat memory`, async function () {
    this.timeout(Math.max(300_000, TENANTS * 30_000));
    const stack = await sharedTestStack();
    const figures = await runManyTenants({ stack: stack.config, tenants: TENANTS, users: USERS, concurrency: 3 });
    console.log(
      `many tenants: ${figures.completed}/${figures.tenants} tenants of ${figures.usersPerTenant} users in ` +
        `${figures.seconds} s (${figures.tenantsPerHour} tenants/hour), worker RSS peak ${figures.workerPeakRssMb} MB, ` +
        `${figures.workerRssAfterWarmupMb} MB after ${figures.warmupTenants} tenants, ${figures.workerRssEndMb} MB at the end`,
    );
    assert.deepEqual(figures.failures, []);
    assert.equal(figures.completed, TENANTS);
    assert.ok(figures.workerPeakRssMb <= 500, `worker peak RSS ${figures.workerPeakRssMb} MB`);
    // Flat after the warm-up: some slack for the allocator, none for per-tenant state that is never freed.
    const allowed = figures.workerRssAfterWarmupMb * 1.15 + 30;
    assert.ok(
      figures.workerRssEndMb <= allowed,
      `worker RSS grew from ${figures.workerRssAfterWarmupMb} MB to ${figures.workerRssEndMb} MB`,
    );
  });
});
