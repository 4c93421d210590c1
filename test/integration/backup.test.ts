import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { connectClient } from '../../temporal/connection';
import { createStorageClient } from '../../storage/gcs-client';
import { canonicalBytes } from '../../storage/canonical-json';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import { firstPageUrl, listObjectTypes, relationshipUrl } from '../../catalog';
import { permissionId } from '../../simulator/identity/permissions';
import { TokenProvider } from '../../activities/graph/token-provider';
import { storedForm } from '../../storage/stored-form';
import { createGraphClient } from '../../activities/graph/graph-client';
import { tenantBackupWorkflow, tenantWorkflow, backupProgressQuery } from '../../workflows';
import { locatedStorage, tenantWorkflowId, type BackupTarget, type Plan } from '../../tenants/types';
import { repositoryLocation } from '../../activities/backup/repositories';
import type { AppConfig } from '../../temporal.config';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';

describe('backup engine (real Temporal, storage and Entra simulator)', function () {
  let stack: TestStack;
  let client: TemporalClient;
  let fx: TenantFixture;
  let worker: RunningWorker | undefined;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { BACKUP_CHECKPOINT_SECONDS: '0', BACKUP_RETENTION_DAYS: '0' });
    worker = await startWorker(fx.config);
  });

  after(async () => {
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  /** A simulated customer tenant, our tenant record for it, and where its backups go. */
  async function newTenant(users: number, plan: Plan = 'backup'): Promise<BackupTarget> {
    const ms = fx.sim.control.createTenant({ users, consentTo: [BACKUP_APP.clientId] });
    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId: 'rsl-test',
      organizationId: 'org-test',
      directory: ms.id,
      storage: locatedStorage(fx.config.storage.locations[0]),
    };
    await client.workflow.start(tenantWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: tenantWorkflowId(target.tenantId),
      args: [
        {
          tenant: {
            ...target,
            plan,
            backupImmediately: false,
            consentTimeoutMs: 60_000,
            createdAt: new Date().toISOString(),
          },
        },
      ],
    });
    return target;
  }

  const backup = (target: BackupTarget, options = {}) =>
    client.workflow.execute(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0, ...options }],
    });

  /** Why a snapshot is not complete, for assertion messages. */
  async function skippedDetail(target: BackupTarget, snapshotId?: string): Promise<string> {
    if (!snapshotId) return 'no snapshot';
    const record = await (await repositoryOf(target)).getSnapshot(snapshotId);
    return Object.entries(record.types)
      .filter(([, t]) => t.status === 'skipped')
      .map(([type, t]) => `${type}: ${t.status === 'skipped' ? t.detail : ''}`)
      .join('; ');
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

  /** What Graph says now, read with the catalog's own $select: the truth a snapshot must equal. */
  async function tenantNow(
    config: AppConfig,
    directory: string,
    type: string,
  ): Promise<Map<string, Record<string, unknown>>> {
    const tokens = new TokenProvider(config.entra);
    const graph: GraphClient = createGraphClient(
      config.entra,
      async () => (await tokens.acquire('backup', directory)).accessToken,
    );
    const spec = listObjectTypes().find((t) => t.key === type)!;
    const out = new Map<string, Record<string, unknown>>();
    if (spec.singleton) {
      const o = (await graph.api(firstPageUrl(type, { baseUrl: config.entra.graphBaseUrl })).get()) as Record<
        string,
        unknown
      >;
      out.set(o[spec.idProperty] as string, storedForm(o));
      return out;
    }
    for (let url: string | undefined = firstPageUrl(type, { baseUrl: config.entra.graphBaseUrl }); url;) {
      const page = (await graph.api(url).get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
      for (const o of page.value) out.set(o[spec.idProperty] as string, storedForm(o));
      url = page['@odata.nextLink'];
    }
    return out;
  }

  /** A relationship of one object as Graph lists it now, in the stored form, sorted by id. */
  async function relatedNow(config: AppConfig, directory: string, type: string, rel: string, id: string) {
    const tokens = new TokenProvider(config.entra);
    const graph = createGraphClient(config.entra, async () => (await tokens.acquire('backup', directory)).accessToken);
    const items: Record<string, unknown>[] = [];
    for (let url: string | undefined = relationshipUrl(type, rel, id, { baseUrl: config.entra.graphBaseUrl }); url;) {
      const page = (await graph.api(url).get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
      items.push(...page.value.map(storedForm));
      url = page['@odata.nextLink'];
    }
    return items.sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1)); // code-point order, as stored
  }

  /**
   * Every relationship of every object of the snapshot equals what Graph lists now, but for members in the recycle
   * bin: Graph keeps a soft-deleted user's memberships (restoring it restores them) without listing them, and does
   * not report the group in delta (delta-query-groups), so the snapshot keeps them.
   */
  async function assertRelationshipsEqualTenant(target: BackupTarget, snapshotId: string) {
    const repo = await repositoryOf(target);
    const binned = new Set<string>();
    for (const type of ['users', 'groups', 'applications', 'servicePrincipals', 'administrativeUnits']) {
      for (const e of await repo.listEntries(snapshotId, type)) if (e.state === 'softDeleted') binned.add(e.id);
    }
    for (const spec of listObjectTypes().filter((t) => t.relationships.length > 0)) {
      for (const entry of (await repo.listEntries(snapshotId, spec.key)).filter((e) => e.state === 'present')) {
        for (const rel of spec.relationships) {
          const stored = entry.rels?.[rel.key] ? await repo.readRelationship(entry.rels[rel.key]) : [];
          const sortedStored = stored.filter((item) => !binned.has(item.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
          const now = await relatedNow(fx.config, target.directory, spec.key, rel.key, entry.id);
          assert.equal(
            canonicalBytes(sortedStored).toString(),
            canonicalBytes(now).toString(),
            `${spec.key} ${entry.id} ${rel.key}`,
          );
        }
      }
    }
  }

  /** Every present object of the snapshot equals the tenant, byte for byte in canonical JSON; nothing is missing. */
  async function assertSnapshotEqualsTenant(target: BackupTarget, snapshotId: string, types: string[]) {
    const repo = await repositoryOf(target);
    for (const type of types) {
      const truth = await tenantNow(fx.config, target.directory, type);
      const entries = (await repo.listEntries(snapshotId, type)).filter((e) => e.state === 'present');
      assert.deepEqual(entries.map((e) => e.id).sort(), [...truth.keys()].sort(), `${type}: ids differ`);
      for (const e of entries) {
        const stored = await repo.readObject(e.contentHash);
        assert.equal(canonicalBytes(stored).toString(), canonicalBytes(truth.get(e.id)).toString(), `${type} ${e.id}`);
      }
    }
  }

  it('captures every object and relationship of the tenant, then only the changes, and equals the tenant both times', async () => {
    const target = await newTenant(120);
    // Already in the recycle bin before the first backup: a full snapshot still holds it, restorable.
    const binned = fx.sim.control.listObjects(target.directory, 'user', { limit: 20 })[19];
    fx.sim.control.deleteObject(target.directory, binned.id);
    const first = await backup(target);
    assert.equal(first.status, 'completed', await skippedDetail(target, first.snapshotId));
    const types = listObjectTypes().map((t) => t.key);
    await assertSnapshotEqualsTenant(target, first.snapshotId!, types);
    const firstUsers = await (await repositoryOf(target)).listEntries(first.snapshotId!, 'users');
    assert.equal(firstUsers.find((e) => e.id === binned.id)?.state, 'softDeleted');

    // Relationships: every one of every object (members, owners, app-role assignments, …) as Graph lists it.
    await assertRelationshipsEqualTenant(target, first.snapshotId!);

    // Churn: a changed user, a soft-deleted user, a hard-deleted group, a new member.
    const c = fx.sim.control;
    const users = c.listObjects(target.directory, 'user', { limit: 10 });
    c.updateObject(target.directory, users[0].id, { jobTitle: 'Chief Restorer' });
    c.deleteObject(target.directory, users[1].id);
    const someGroups = c.listObjects(target.directory, 'group', { limit: 3 });
    c.deleteObject(target.directory, someGroups[0].id, { hard: true });
    c.addMember(target.directory, someGroups[1].id, users[2].id);
    c.clearRequestLog();

    const second = await backup(target);
    assert.equal(second.status, 'completed', await skippedDetail(target, second.snapshotId));
    await assertSnapshotEqualsTenant(target, second.snapshotId!, types);
    await assertRelationshipsEqualTenant(target, second.snapshotId!);
    const after = await repositoryOf(target);
    const userEntries = new Map((await after.listEntries(second.snapshotId!, 'users')).map((e) => [e.id, e]));
    assert.equal(userEntries.get(users[1].id)?.state, 'softDeleted', 'a soft-deleted user stays, marked restorable');
    const groupIds = (await after.listEntries(second.snapshotId!, 'groups')).map((e) => e.id);
    assert.equal(groupIds.includes(someGroups[0].id), false, 'a hard-deleted group is gone');
    const g1 = (await after.listEntries(second.snapshotId!, 'groups')).find((e) => e.id === someGroups[1].id)!;
    assert.ok(
      (await after.readRelationship(g1.rels!.members)).some((m) => m.id === users[2].id),
      'new member kept',
    );

    // Incremental: users and groups came from delta links, not from a full listing.
    const record = await after.getSnapshot(second.snapshotId!);
    assert.equal(record.types.users.status === 'captured' && record.types.users.readMode, 'delta');
    assert.equal(record.types.groups.status === 'captured' && record.types.groups.readMode, 'delta');
    assert.equal(record.previous, first.snapshotId, 'snapshot records form a chain');
  });

  it('survives a 429 storm without one request before its Retry-After', async () => {
    const target = await newTenant(300);
    fx.sim.control.setThrottling({ windowMs: 1000, limits: { S: 40, M: 40, L: 40 } }, target.directory);
    try {
      const result = await backup(target);
      assert.equal(result.status, 'completed', await skippedDetail(target, result.snapshotId));
      const usage = fx.sim.control.usage({ tenantId: target.directory });
      const throttled = usage.counters.reduce((n, c) => n + c.throttled, 0);
      assert.ok(throttled > 0, 'the budget was small enough to throttle');
      assert.deepEqual(usage.earlyRetries, []);
    } finally {
      fx.sim.control.resetThrottling();
    }
  });

  it('reports progress while it runs and records the snapshot on the tenant', async () => {
    const target = await newTenant(50);
    const handle = await client.workflow.start(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0 }],
    });
    const result = await handle.result();
    const progress = await handle.query(backupProgressQuery);
    assert.equal(progress.typesDone, progress.typesTotal);
    assert.ok(progress.objectsRead > 50);
    assert.ok(progress.requests > 0 && progress.resourceUnits >= progress.requests);
    const tenant = await client.workflow
      .getHandle(tenantWorkflowId(target.tenantId))
      .query<{ lastBackup?: { snapshotId?: string } }>('tenant');
    assert.equal(tenant.lastBackup?.snapshotId, result.snapshotId);
    // History grows with object types, not with objects.
    const { events } = await handle.fetchHistory();
    assert.ok(events!.length < 40 * listObjectTypes().length, `${events!.length} events`);
  });

  it('keeps only the newest snapshot on a Backup plan with zero retention, and everything on Archiver', async () => {
    const kept = await newTenant(30, 'archiver');
    const expiring = await newTenant(30, 'backup');
    for (const target of [kept, expiring]) {
      await backup(target);
      fx.sim.control.updateObject(
        target.directory,
        fx.sim.control.listObjects(target.directory, 'user', { limit: 1 })[0].id,
        {
          jobTitle: 'Changed',
        },
      );
      await backup(target);
    }
    const wait = async (target: BackupTarget) => {
      for (const { workflowId } of await listRetention(target)) await client.workflow.getHandle(workflowId).result();
    };
    await wait(kept);
    await wait(expiring);
    assert.equal((await (await repositoryOf(kept)).listSnapshots()).length, 2);
    const repo = await repositoryOf(expiring);
    const left = await repo.listSnapshots();
    assert.equal(left.length, 1);
    const check = await repo.check({ readData: true });
    assert.deepEqual(check.errors, [], 'what is kept is intact');
  });

  async function listRetention(target: BackupTarget) {
    const out: { workflowId: string }[] = [];
    for await (const e of client.workflow.list({
      query: `TenantId = '${target.tenantId}' AND JobKind = 'retention'`,
    })) {
      out.push({ workflowId: e.workflowId });
    }
    return out;
  }

  it('writes a partial snapshot whose coverage report names a type it may not read, and why', async () => {
    const target = await newTenant(20);
    // Take one permission away: the app's assignment of Policy.Read.All in this tenant.
    const policyRead = fx.sim.control
      .listObjects(target.directory, 'appRoleAssignment')
      .find((a) => (a.data as { appRoleId?: string }).appRoleId === permissionId('Policy.Read.All'));
    assert.ok(policyRead, 'the assignment to remove exists');
    fx.sim.control.deleteObject(target.directory, policyRead.id, { hard: true });

    const result = await backup(target);
    assert.equal(result.status, 'incomplete');
    const record = await (await repositoryOf(target)).getSnapshot(result.snapshotId!);
    const ca = record.types.conditionalAccessPolicies;
    assert.equal(ca.status, 'skipped');
    assert.equal(ca.status === 'skipped' && ca.reason, 'permission-missing');
    assert.equal(record.types.users.status, 'captured', 'what the app may read is still backed up');
    const tenant = await client.workflow.getHandle(tenantWorkflowId(target.tenantId)).query<{
      lastBackup?: { status: string; skippedTypes?: string[] };
      backupApp: { missingRoles?: string[] };
    }>('tenant');
    assert.equal(tenant.lastBackup?.status, 'incomplete');
    assert.ok(tenant.lastBackup?.skippedTypes?.includes('conditionalAccessPolicies'));
    assert.deepEqual(tenant.backupApp.missingRoles, ['Policy.Read.All']);
  });
});
