import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import { connectClient } from '../../temporal/connection';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { loadOrCreateDataKey, MasterKey } from '../../storage/data-keys';
import { ForeignRepositoryError } from '../../storage/owner';
import { ForeignSnapshotError, Repository } from '../../storage/repository';
import { encodeSnapshot, snapshotKey } from '../../storage/snapshot';
import { ensureBucket } from '../../devstack/buckets';
import { repositoryLocation, Repositories } from '../../activities/backup/repositories';
import { claimLegacyRepository, listLegacyTenants } from '../../activities/backup/legacy-storage';
import { retentionWorkflow, tenantBackupWorkflow } from '../../workflows';
import { tenantWorkflowId, type BackupTarget, type LegacyStorage, type TenantRecord } from '../../tenants/types';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { BACKUP_APP, startFixtureApi, startTenantFixture } from '../helpers/tenant-fixture';
import type { FixtureApi, TenantFixture } from '../helpers/tenant-fixture';
import { startTargetTenantWorkflow } from '../../scripts/tenant-workflow';

/** Every message and failure type along a Temporal failure's cause chain, for matching. */
function failureChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(`${e.type ?? ''}: ${e.message ?? ''}`);
  }
  return parts.join(' <- ');
}

describe('storage locations: one repository per tenant, prefixes the service derives (real stack)', () => {
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: FixtureApi;
  let storage: Storage;
  let resellerKey: string;
  let orgUserKey: string;
  let resellerId: string;
  let organizationId: string;
  const euBucket = `entra-backup-eu-${randomUUID().slice(0, 8)}`;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, {
      STORAGE_LOCATIONS: JSON.stringify([
        { id: 'default', displayName: 'Default', region: 'local', bucket: stack.config.storage.defaultBucket },
        { id: 'eu', displayName: 'Europe', region: 'europe-west1', bucket: euBucket },
      ]),
    });
    await ensureBucket(fx.config.storage, euBucket);
    worker = await startWorker(fx.config);
    api = await startFixtureApi(fx, client);
    storage = api.deps.storage;
    const reseller = await fx.accounts.createReseller({ name: 'Northwind MSP' });
    resellerId = reseller.id;
    organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Contoso' })).id;
    resellerKey = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    orgUserKey = (await fx.accounts.createApiKey(reseller.id, organizationId)).apiKey;
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  const call = (method: string, path: string, body?: unknown, key = resellerKey) =>
    fetch(`${api.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const record = (tenantId: string) =>
    client.workflow.getHandle(tenantWorkflowId(tenantId)).query<TenantRecord>('tenant');

  const tenantCount = async () => (await client.workflow.count(`WorkflowType = 'tenantWorkflow'`)).count;

  /** A tenant added through the API, consented, and backed up once. */
  async function addedAndBackedUp(storageLocationId: string): Promise<TenantRecord> {
    const ms = fx.sim.control.createTenant({ users: 5, consentMode: 'accept' });
    const res = await call('POST', '/tenants', {
      organizationId,
      directory: ms.id,
      storageLocationId,
      plan: 'backup',
      backupImmediately: true,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { tenantId } = (await res.json()) as { tenantId: string };
    const consent = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
    const { consentUrl } = (await consent.json()) as { consentUrl: string };
    const callback = (await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!;
    assert.equal((await fetch(callback, { headers: { accept: 'application/json' } })).status, 200);
    return waitFor(
      'the first backup',
      async () => {
        const r = await record(tenantId);
        return r.lastBackup?.status === 'completed' ? r : undefined;
      },
      60_000,
    );
  }

  /** A tenant record as written before storage locations: a typed bucket and prefix. */
  async function legacyTenant(storageOf: LegacyStorage): Promise<BackupTarget> {
    const ms = fx.sim.control.createTenant({ users: 5, consentTo: [BACKUP_APP.clientId] });
    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId,
      organizationId,
      directory: ms.id,
      storage: storageOf,
    };
    await startTargetTenantWorkflow(client, fx.config.temporal.taskQueue, target, { consentTimeoutMs: 600_000 });
    return target;
  }

  const backup = (target: BackupTarget) =>
    client.workflow.execute(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0 }],
    });

  const storeOf = (target: BackupTarget) => {
    const location = repositoryLocation(target);
    return new GcsObjectStore(storage.bucket(location.bucket), location.prefix);
  };

  it('lists the operator’s locations to resellers, without buckets; organization users get 403', async () => {
    const res = await call('GET', '/storage-locations');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      locations: [
        { id: 'default', displayName: 'Default', region: 'local' },
        { id: 'eu', displayName: 'Europe', region: 'europe-west1' },
      ],
    });
    assert.equal((await call('GET', '/storage-locations', undefined, orgUserKey)).status, 403);
  });

  it('refuses a typed bucket and prefix pointing to storageLocationId, and an unknown location, creating nothing', async () => {
    const before = await tenantCount();
    const tenant = { organizationId, directory: 'contoso.example', plan: 'backup' };
    const typed = await call('POST', '/tenants', {
      ...tenant,
      storage: { bucket: euBucket, prefix: `resellers/${resellerId}/tenants/x`, region: 'r' },
    });
    assert.equal(typed.status, 400);
    assert.match(typed.headers.get('content-type')!, /application\/problem\+json/);
    const problem = (await typed.json()) as { detail: string; errors: { field: string; message: string }[] };
    assert.ok(problem.errors.some((e) => e.field === 'body.storage' && /storageLocationId/.test(e.message)));
    assert.ok(problem.errors.some((e) => e.field === 'body.storageLocationId'));

    const unknown = await call('POST', '/tenants', { ...tenant, storageLocationId: 'mars' });
    assert.equal(unknown.status, 400);
    const unknownProblem = (await unknown.json()) as { errors: { field: string; message: string }[] };
    assert.deepEqual(
      unknownProblem.errors.map((e) => e.field),
      ['body.storageLocationId'],
    );
    assert.match(unknownProblem.errors[0].message, /unknown storage location 'mars'/);
    assert.equal(await tenantCount(), before);
  });

  let first: TenantRecord;

  it('gives two tenants in the same location two repositories, each owned by its tenant', async () => {
    first = await addedAndBackedUp('eu');
    const second = await addedAndBackedUp('eu');
    const shown = (await (await call('GET', `/tenants/${first.tenantId}`)).json()) as { storage: unknown };
    assert.deepEqual(shown.storage, { locationId: 'eu', region: 'europe-west1' });

    // The bucket holds exactly two repositories, one per tenant, under the prefixes the service derived.
    const [files] = await storage.bucket(euBucket).getFiles({ prefix: `resellers/${resellerId}/tenants/` });
    const folders = new Set(files.map((f) => f.name.split('/').slice(0, 4).join('/') + '/'));
    assert.deepEqual([...folders].sort(), [repositoryLocation(first).prefix, repositoryLocation(second).prefix].sort());
    const master = fx.config.storage.masterKey;
    for (const [tenant, other] of [
      [first, second],
      [second, first],
    ]) {
      const repo = await Repository.open(storeOf(tenant), master, { owner: tenant });
      assert.equal(repo.ownerRecord?.tenantId, tenant.tenantId);
      const snapshots = await repo.listSnapshots();
      assert.deepEqual(
        snapshots.map((s) => s.record.tenantId),
        [tenant.tenantId],
      );
      // Opening one tenant's repository for the other fails, whoever asks.
      await assert.rejects(Repository.open(storeOf(tenant), master, { owner: other }), ForeignRepositoryError);
    }
    const retention = await client.workflow.execute(retentionWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `retention:${first.tenantId}:${randomUUID()}`,
      args: [{ tenantId: first.tenantId, resellerId, storage: first.storage, graceMs: 0 }],
    });
    assert.equal(retention.kept, 1);
  });

  it('reports a planted snapshot record of another tenant as an integrity error in listing, backup and retention', async () => {
    assert.ok(first, 'needs the tenant of the previous test');
    const store = storeOf(first);
    const master = MasterKey.fromBase64(fx.config.storage.masterKey);
    const [own] = await (await Repository.open(store, master, { owner: first })).listSnapshots();
    // Sealed with the repository's own data key: only the tenant id gives it away.
    const dataKey = await loadOrCreateDataKey(store, master);
    const foreign = encodeSnapshot(dataKey.bytes(), {
      ...own.record,
      tenantId: randomUUID(),
      previous: own.id,
      finishedAt: new Date().toISOString(),
    });
    await store.put(snapshotKey(foreign.id), foreign.bytes, { ifGenerationMatch0: true });

    const listing = await new Repositories(storage, fx.config.storage.masterKey).forTenant(first);
    await assert.rejects(listing.listSnapshots(), (err: unknown) => {
      assert.ok(err instanceof ForeignSnapshotError);
      assert.deepEqual(err.snapshotIds, [foreign.id]);
      return true;
    });

    const started = await call('POST', `/tenants/${first.tenantId}/backups`);
    assert.equal(started.status, 202, await started.clone().text());
    const { workflowId } = (await started.json()) as { workflowId: string };
    const backupFailure = await client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => assert.fail('the backup completed on top of a foreign record'),
        (err: unknown) => failureChain(err),
      );
    assert.match(backupFailure, /ForeignSnapshotError: .*belong to another tenant/);

    const retentionFailure = await client.workflow
      .execute(retentionWorkflow, {
        taskQueue: fx.config.temporal.taskQueue,
        workflowId: `retention:${first.tenantId}:${randomUUID()}`,
        args: [{ tenantId: first.tenantId, resellerId, storage: first.storage, graceMs: 0 }],
      })
      .then(
        () => assert.fail('retention ran over a foreign record'),
        (err: unknown) => failureChain(err),
      );
    assert.match(retentionFailure, /ForeignSnapshotError: .*belong to another tenant/);
    // Nothing was committed on top of the foreign record.
    const names: string[] = [];
    for await (const info of store.list('snapshots/')) names.push(info.key);
    assert.deepEqual(names.sort(), [snapshotKey(own.id), snapshotKey(foreign.id)].sort());
  });

  it('keeps legacy tenants working where they are; the operator command lists them and claims only when told', async () => {
    const bucket = stack.config.storage.defaultBucket;
    const typed = `legacy/${randomUUID()}`;
    const owner = await legacyTenant({ bucket, prefix: typed, region: 'local' });
    const sameTyped = await legacyTenant({ bucket, prefix: `${typed}/`, region: 'local' });
    const older = await legacyTenant({ bucket, prefix: `legacy/${randomUUID()}`, region: 'local' });
    const inAudit = await legacyTenant({ bucket, prefix: 'audit', region: 'local' });

    const mixed = await legacyTenant({ bucket, prefix: `legacy/${randomUUID()}`, region: 'local' });

    // Repositories written before owner records existed: data, no owner; the second one shared by two tenants.
    const writeBefore = async (target: BackupTarget, tenantId = target.tenantId) => {
      const repo = await Repository.open(storeOf(target), fx.config.storage.masterKey);
      const w = await repo.startSnapshot(tenantId);
      await w.addObject('users', 'u1', 'User 1', { id: 'u1', displayName: 'User 1' });
      await w.finishType('users');
      await w.commit();
    };
    await writeBefore(older);
    await writeBefore(mixed);
    await writeBefore(mixed, randomUUID());

    assert.equal((await backup(owner)).status, 'completed');
    const shown = (await (await call('GET', `/tenants/${owner.tenantId}`)).json()) as { storage: unknown };
    assert.deepEqual(shown.storage, { bucket, prefix: typed, region: 'local', legacy: true });
    // A second tenant that typed the same bucket and prefix cannot use the first one's repository.
    const refused = await backup(sameTyped).then(
      () => 'completed',
      (err: unknown) => failureChain(err),
    );
    assert.match(refused, /ForeignRepositoryError/);
    assert.equal((await backup(older)).status, 'completed');

    const audit = async () => (await storage.bucket(bucket).getFiles({ prefix: 'audit/' }))[0].map((f) => f.name);
    const auditBefore = await audit();
    const reserved = await backup(inAudit).then(
      () => 'completed',
      (err: unknown) => failureChain(err),
    );
    assert.match(reserved, /ReservedPrefixError: .*overlaps the reserved prefix audit\//);
    const auditAfter = await audit();
    assert.deepEqual(
      auditAfter.filter((name) => !/^audit\/[^/]+\/[^/]+\.json$/.test(name)),
      [],
      'only audit entries live under audit/',
    );
    assert.ok(auditBefore.every((name) => auditAfter.includes(name)));

    const state = async () => {
      const reports = await listLegacyTenants(
        client,
        storage,
        fx.config.storage.masterKey,
        fx.config.temporal.taskQueue,
      );
      return Object.fromEntries(reports.map((r) => [r.tenantId, r]));
    };
    const listed = await state();
    assert.equal(listed[owner.tenantId].state, 'owned');
    assert.equal(listed[sameTyped.tenantId].state, 'owned-by-another');
    assert.deepEqual(listed[sameTyped.tenantId].sharedWith, [owner.tenantId]);
    assert.equal(listed[older.tenantId].state, 'unowned');
    assert.equal(listed[older.tenantId].snapshots, 2);
    assert.equal(listed[inAudit.tenantId].state, 'reserved-prefix');
    assert.equal(listed[mixed.tenantId].state, 'mixed');
    assert.equal(listed[first.tenantId], undefined, 'tenants in a storage location are not legacy');
    assert.equal(
      (await Repository.open(storeOf(older), fx.config.storage.masterKey)).ownerRecord,
      undefined,
      'neither backing up nor listing claimed the repository',
    );

    await assert.rejects(
      claimLegacyRepository(client, storage, fx.config.storage.masterKey, sameTyped.tenantId),
      ForeignRepositoryError,
    );
    await assert.rejects(
      claimLegacyRepository(client, storage, fx.config.storage.masterKey, mixed.tenantId),
      ForeignSnapshotError,
    );
    const claimed = await claimLegacyRepository(client, storage, fx.config.storage.masterKey, older.tenantId);
    assert.equal(claimed.tenantId, older.tenantId);
    assert.equal((await state())[older.tenantId].state, 'owned');
    assert.equal((await backup(older)).status, 'completed');
  });
});
