import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { createStorageClient } from '../../storage/gcs-client';
import { canonicalBytes } from '../../storage/canonical-json';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import { firstPageUrl, getObjectType } from '../../catalog';
import { TokenProvider } from '../../activities/graph/token-provider';
import { storedForm } from '../../storage/stored-form';
import { createGraphClient } from '../../activities/graph/graph-client';
import { tenantBackupWorkflow, backupProgressQuery } from '../../workflows';
import { locatedStorage, type BackupTarget } from '../../tenants/types';
import { repositoryLocation } from '../../activities/backup/repositories';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { startTargetTenantWorkflow } from '../../scripts/tenant-workflow';
import type { AppConfig } from '../../temporal.config';

/**
 * Partitioned listing of large types (issue 16, items 2 and 3) through the real stack. One 20,000-user tenant is
 * backed up several times (the machine is small); the fast latency model throughout.
 */
describe('partitioned listing of large types (real Temporal, storage and Entra simulator)', function () {
  // Full backups of a 20,000-user tenant on a small shared machine.
  this.timeout(900_000);
  let stack: TestStack;
  let client: TemporalClient;
  let fx: TenantFixture;
  let worker: RunningWorker | undefined;
  let directory: string;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    // Under the fast test model the engine would read these lists page by page (they are no latency bound): the
    // partitioned read is forced here; the last test leaves the decision to the engine.
    fx = await startTenantFixture(stack, client, {
      BACKUP_CHECKPOINT_SECONDS: '1',
      BACKUP_RETENTION_DAYS: '0',
      BACKUP_PARTITIONED_LISTING: 'always',
    });
    worker = await startWorker(fx.config);
    directory = fx.sim.control.createTenant({ users: 20_000, consentTo: [BACKUP_APP.clientId] }).id;
    // Spread users unevenly over first characters: most keep their first name's letter, some begin with a digit or
    // each punctuation mark an alias may begin with.
    const heads = ['0', '7', '9', "'", '_', '-', '!', '#', '^', '~', '.'];
    const users = fx.sim.control.listObjects(directory, 'user', { limit: 100_000 });
    for (const [i, u] of users.entries()) {
      if (i % 5 !== 0) continue;
      // Squaring a spread fraction favours the first heads: uneven, yet every head is used.
      const head = heads[Math.floor((((i / 5) % 97) / 97) ** 2 * heads.length)];
      fx.sim.control.updateObject(directory, u.id, { userPrincipalName: `${head}${u.data.userPrincipalName}` });
    }
  });

  after(async () => {
    fx?.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  /** A backup target of ours for a simulated directory: its first backup reads every type in full. */
  async function newTarget(dir: string, taskQueue = fx.config.temporal.taskQueue): Promise<BackupTarget> {
    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId: 'rsl-test',
      organizationId: 'org-test',
      directory: dir,
      storage: locatedStorage(fx.config.storage.locations[0]),
    };
    await startTargetTenantWorkflow(client, taskQueue, target, { consentTimeoutMs: 60_000 });
    return target;
  }

  /** One backup, with the progress it reported (how each type was read). */
  async function backup(target: BackupTarget, during?: () => Promise<void>, taskQueue = fx.config.temporal.taskQueue) {
    const handle = await client.workflow.start(tenantBackupWorkflow, {
      taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0 }],
    });
    await during?.();
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    return { snapshotId: result.snapshotId!, progress: await handle.query(backupProgressQuery) };
  }

  const repositoryOf = (target: BackupTarget) =>
    Repository.open(
      new GcsObjectStore(
        createStorageClient(stack.config.storage).bucket(target.storage.bucket),
        repositoryLocation(target).prefix,
      ),
      fx.config.storage.masterKey,
      { owner: target },
    );

  /** What Graph holds now, read in one listing with the catalog's own $select. */
  async function tenantNow(dir: string, type: string): Promise<Map<string, Record<string, unknown>>> {
    const tokens = new TokenProvider(fx.config.entra);
    const graph = createGraphClient(fx.config.entra, async () => (await tokens.acquire('backup', dir)).accessToken);
    const spec = getObjectType(type);
    const out = new Map<string, Record<string, unknown>>();
    for (let url: string | undefined = firstPageUrl(type, { baseUrl: fx.config.entra.graphBaseUrl }); url;) {
      const page = (await graph.api(url).get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
      for (const o of page.value) out.set(o[spec.idProperty] as string, storedForm(o));
      url = page['@odata.nextLink'];
    }
    return out;
  }

  /**
   * The snapshot's present objects of `type` are the tenant's, nothing missing, nothing extra; their content equals
   * Graph's byte for byte for a spread sample and for `changed` (reading 20,000 objects one by one takes minutes here,
   * and the partitioning decides which objects are read, not how they are stored).
   */
  async function assertEqualsTenant(target: BackupTarget, snapshotId: string, type: string, changed: string[] = []) {
    const repo = await repositoryOf(target);
    const truth = await tenantNow(target.directory, type);
    const entries = (await repo.listEntries(snapshotId, type)).filter((e) => e.state === 'present');
    assert.equal(entries.length, truth.size, `${type}: count`);
    assert.deepEqual(entries.map((e) => e.id).sort(), [...truth.keys()].sort(), `${type}: ids differ`);
    const sample = entries.filter((e, i) => i % 40 === 0 || changed.includes(e.id));
    for (const e of sample) {
      const stored = await repo.readObject(e.contentHash);
      assert.equal(canonicalBytes(stored).toString(), canonicalBytes(truth.get(e.id)).toString(), `${type} ${e.id}`);
    }
  }

  /** Waits (looking at new log entries only: the simulator shares this process) for a partition of users to be read. */
  async function partitionedListingStarted(): Promise<boolean> {
    let seen = 0;
    for (const deadline = Date.now() + 600_000; Date.now() < deadline;) {
      const entries = fx.sim.control.requestLog({ tenantId: directory, kind: 'graph', sinceSeq: seen });
      if (
        entries.some(
          (e) => e.url.startsWith('/users?') && /startswith\(userPrincipalName/i.test(decodeURIComponent(e.url)),
        )
      )
        return true;
      seen = entries.at(-1)?.seq ?? seen;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  it('lists 20,000 uneven users in partitions that together equal the tenant; a user created and one deleted during the listing follow the next delta', async () => {
    const target = await newTarget(directory);
    fx.sim.control.clearRequestLog();
    let created: string | undefined;
    let deleted: string | undefined;
    const first = await backup(target, async () => {
      // Once the partitioned listing of users has begun: one user appears, another goes to the recycle bin.
      assert.ok(await partitionedListingStarted(), 'users were read in partitions');
      created = fx.sim.control.createObject(directory, 'user', {
        displayName: 'Zed During',
        userPrincipalName: `zed.during@${directory}.example`,
        accountEnabled: true,
        mailNickname: 'zed.during',
      }).id;
      deleted = fx.sim.control.listObjects(directory, 'user', { limit: 50 })[42].id;
      fx.sim.control.deleteObject(directory, deleted);
    });
    assert.ok(created && deleted, 'the listing was partitioned and changed while it ran');
    const users = first.progress.types.users;
    assert.ok((users.partitions ?? 0) > 26, `users read in ${users.partitions} partitions`);
    assert.ok((first.progress.types.devices.partitions ?? 0) > 1, 'devices are partitioned too');
    // The first snapshot holds each user Graph listed; the two changed during the listing may be either way, so
    // only the rest is compared here.
    const truth = await tenantNow(directory, 'users');
    const repo = await repositoryOf(target);
    const present = new Set(
      (await repo.listEntries(first.snapshotId, 'users')).filter((e) => e.state === 'present').map((e) => e.id),
    );
    const missing = [...truth.keys()].filter((id) => id !== created && !present.has(id));
    assert.deepEqual(missing, [], 'every user outside the changes is in the snapshot');

    // The all-users group's 20,000 members were read as users in `startswith` partitions plus the other member
    // types whole (an advanced query each), not 21 pages one after another; the list stored is the group's.
    const allUsers = fx.sim.control
      .listObjects(directory, 'group', { limit: 1000 })
      .find((g) => g.data.displayName === 'All Users')!;
    const memberReads = fx.sim.control
      .requestLog({ tenantId: directory, kind: 'graph' })
      .map((e) => decodeURIComponent(e.url))
      .filter((url) => url.startsWith(`/groups/${allUsers.id}/members`));
    const partitions = memberReads.filter((url) =>
      /^\/groups\/[^/]+\/members\/microsoft\.graph\.user\?.*startswith\(userPrincipalName,/.test(url),
    );
    assert.ok(partitions.length > 10, `members read in ${partitions.length} partitions`);
    assert.ok(memberReads.some((url) => url.includes('/members/microsoft.graph.group?')));
    assert.ok(!memberReads.some((url) => /^\/groups\/[^/]+\/members\?.*\$skiptoken/.test(url)), 'no page-by-page read');
    const groupEntry = (await repo.listEntries(first.snapshotId, 'groups')).find((e) => e.id === allUsers.id)!;
    const storedMembers = await repo.readRelationship(groupEntry.rels!.members);
    assert.ok(storedMembers.every((m) => m['@odata.type'] === '#microsoft.graph.user'));
    const expected = fx.sim.control.listMembers(directory, allUsers.id).filter((id) => id !== deleted);
    assert.deepEqual(
      storedMembers.map((m) => m.id).filter((id) => id !== deleted),
      [...expected].sort(),
      'the all-users group’s members as Graph lists them',
    );

    // The delta round started before the listing reports both changes: the next snapshot equals the tenant.
    const second = await backup(target);
    assert.equal(second.progress.types.users.readMode, 'delta');
    await assertEqualsTenant(target, second.snapshotId, 'users', [created!]);
    const entries = await repo.listEntries(second.snapshotId, 'users');
    assert.equal(entries.find((e) => e.id === created)?.state, 'present');
    assert.equal(entries.find((e) => e.id === deleted)?.state, 'softDeleted');
    await assertEqualsTenant(target, second.snapshotId, 'devices');
  });

  it('gives the same snapshot with /users pages capped at 120 and 1-object delta pages as with 999-object pages', async () => {
    const target = await newTarget(directory);
    fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0, pageCaps: { users: 120, devices: 120 }, deltaPageSize: 1 });
    try {
      const full = await backup(target);
      assert.equal(full.progress.types.users.readMode, 'full');
      await assertEqualsTenant(target, full.snapshotId, 'users');
      await assertEqualsTenant(target, full.snapshotId, 'devices');
      // A day's changes, read back through delta pages of one object each.
      const c = fx.sim.control;
      const some = c.listObjects(directory, 'user', { limit: 400 });
      for (let i = 0; i < 300; i++) c.updateObject(directory, some[i].id, { jobTitle: `Field ${i}` });
      c.deleteObject(directory, some[301].id);
      const group = c.listObjects(directory, 'group', { limit: 5 })[4];
      c.addMember(directory, group.id, some[302].id);
      const daily = await backup(target);
      assert.equal(daily.progress.types.users.readMode, 'delta');
      await assertEqualsTenant(
        target,
        daily.snapshotId,
        'users',
        some.slice(0, 300).map((u) => u.id),
      );
      await assertEqualsTenant(target, daily.snapshotId, 'groups');
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
  });

  it('completes a tenant whose users all begin with one letter within the budget, and reads again in one listing a tenant the partitions cannot cover', async () => {
    const oneLetter = fx.sim.control.createTenant({ users: 6000, consentTo: [BACKUP_APP.clientId] }).id;
    for (const [i, u] of fx.sim.control.listObjects(oneLetter, 'user', { limit: 100_000 }).entries()) {
      fx.sim.control.updateObject(oneLetter, u.id, {
        userPrincipalName: `j${i.toString(36)}.user@${oneLetter}.example`,
      });
    }
    const target = await newTarget(oneLetter);
    const first = await backup(target);
    assert.ok((first.progress.types.users.partitions ?? 0) > 1, 'the one letter is split by the next character');
    await assertEqualsTenant(target, first.snapshotId, 'users');
    const usage = fx.sim.control.usage({ tenantId: oneLetter, appId: BACKUP_APP.clientId });
    assert.deepEqual(usage.earlyRetries, [], 'no request came before a Retry-After had passed');

    // A user whose name begins with a character outside every partition: the counts show it, and the type is read
    // again in one listing rather than stored without it.
    const outside = fx.sim.control.createObject(oneLetter, 'user', {
      displayName: 'Ünal Outside',
      userPrincipalName: `ünal.outside@${oneLetter}.example`,
      accountEnabled: true,
      mailNickname: 'unal.outside',
    }).id;
    // The all-users group gains a member of a type its partitioned read does not ask for (an application; in Graph
    // an organizational contact, which no catalog type lists by cast): the
    // count of the whole list shows the shortfall and the list is read page by page, so the member is kept.
    const allUsers = fx.sim.control
      .listObjects(oneLetter, 'group', { limit: 1000 })
      .find((g) => g.data.displayName === 'All Users')!;
    const app = fx.sim.control.listObjects(oneLetter, 'application', { limit: 1 })[0];
    fx.sim.control.addMember(oneLetter, allUsers.id, app.id);
    const againTarget = await newTarget(oneLetter);
    const again = await backup(againTarget);
    assert.equal(again.progress.types.users.partitions, 0, 'the partitioning failed its check');
    await assertEqualsTenant(againTarget, again.snapshotId, 'users');
    const entries = await (await repositoryOf(againTarget)).listEntries(again.snapshotId, 'users');
    assert.equal(entries.find((e) => e.id === outside)?.state, 'present');
    const groupEntry = (await (await repositoryOf(againTarget)).listEntries(again.snapshotId, 'groups')).find(
      (e) => e.id === allUsers.id,
    )!;
    const members = await (await repositoryOf(againTarget)).readRelationship(groupEntry.rels!.members);
    assert.deepEqual(
      members.map((m) => m.id),
      [...fx.sim.control.listMembers(oneLetter, allUsers.id)].sort(),
    );
    assert.ok(members.some((m) => m.id === app.id && m['@odata.type'] === '#microsoft.graph.application'));
  });
  it('left to decide, reads the long lists page by page under the fast model and in partitions when pages are slow', async () => {
    // A worker of its own whose engine decides from what it measures (the default), on its own task queue. One type
    // at a time: the simulator shares this process with the worker, and on a loaded 2-core machine four types at once
    // make a page of 999 at no latency take ~0.4 s of CPU, which is what a slow Graph looks like.
    const auto: AppConfig = {
      ...fx.config,
      temporal: { ...fx.config.temporal, taskQueue: `${fx.config.temporal.taskQueue}-auto` },
      backup: { ...fx.config.backup, partitionedListing: 'auto', typeConcurrency: 1 },
    };
    const autoWorker = await startWorker(auto);
    const allUsers = fx.sim.control
      .listObjects(directory, 'group', { limit: 1000 })
      .find((g) => g.data.displayName === 'All Users')!;
    const reads = () =>
      fx.sim.control
        .requestLog({ tenantId: directory, kind: 'graph' })
        .map((e) => decodeURIComponent(e.url))
        .filter((url) => url.startsWith('/users') || url.startsWith(`/groups/${allUsers.id}/members`));
    try {
      // Fast: 21 pages of users one after another take far less than the budget needs for the backup anyway. No
      // partition of users is counted or listed, and the snapshot is the tenant's. (The all-users group's member list
      // is timed while the simulator, in this process, answers many batches at once: on a loaded machine its second
      // page can take what a slow Graph's does, so its fast-model decision is asserted in
      // test/unit/listing-decision.test.ts instead.)
      fx.sim.control.clearRequestLog();
      const target = await newTarget(directory, auto.temporal.taskQueue);
      const fast = await backup(target, undefined, auto.temporal.taskQueue);
      assert.equal(fast.progress.types.users.readMode, 'full');
      assert.equal(fast.progress.types.users.partitions, undefined, 'users read in one listing');
      assert.equal(fast.progress.types.devices.partitions, undefined, 'devices read in one listing');
      const userReads = reads().filter((url) => url.startsWith('/users'));
      assert.deepEqual(
        userReads.filter((url) => /startswith\(/.test(url)),
        [],
        'no partition of users counted or read',
      );
      assert.ok(userReads.filter((url) => /^\/users\?.*\$skiptoken/.test(url)).length >= 20, 'users page by page');
      await assertEqualsTenant(target, fast.snapshotId, 'users');

      // Slow: 1 ms per object returned (a page of 999 takes a second, as in the field): the same lists are now the
      // backup's latency bound, and the engine reads them in partitions.
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0, perObjectMs: 1 });
      fx.sim.control.clearRequestLog();
      const slowTarget = await newTarget(directory, auto.temporal.taskQueue);
      const slow = await backup(slowTarget, undefined, auto.temporal.taskQueue);
      assert.ok(
        (slow.progress.types.users.partitions ?? 0) > 1,
        `users read in ${slow.progress.types.users.partitions}`,
      );
      assert.ok((slow.progress.types.devices.partitions ?? 0) > 1, 'devices (5,000) too');
      assert.ok(
        reads().some((url) => /^\/groups\/[^/]+\/members\/microsoft\.graph\.user\?.*startswith\(/.test(url)),
        'the all-users group\u2019s members read in partitions',
      );
      await assertEqualsTenant(slowTarget, slow.snapshotId, 'users');
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
      await autoWorker.stop();
    }
  });
});
