import { repositoryLocation } from '../../activities/backup/repositories';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client as TemporalClient } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { connectClient } from '../../temporal/connection';
import { createStorageClient } from '../../storage/gcs-client';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import { canonicalBytes } from '../../storage/canonical-json';
import { firstPageUrl, listObjectTypes } from '../../catalog';
import { permissionId } from '../../simulator/identity/permissions';
import { TokenProvider } from '../../activities/graph/token-provider';
import { createGraphClient } from '../../activities/graph/graph-client';
import { storedForm } from '../../storage/stored-form';
import { inGraphShape } from '../../exports/odata-types';
import { exportObjectName, exportObjectPrefix, exportWorkflowId, EXPORTS_PREFIX } from '../../exports/object-names';
import type { ExportRequest } from '../../exports/types';
import { exportWorkflow, tenantBackupWorkflow, tenantWorkflow } from '../../workflows';
import { locatedStorage, tenantWorkflowId, type BackupTarget } from '../../tenants/types';
import type { AppConfig } from '../../temporal.config';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { bearer, newReseller, startApi, type TestApi } from '../helpers/accounts';
import { waitFor } from '../helpers/http';

type Json = Record<string, unknown>;

describe('download: zip exports and verify (real Temporal, storage and Entra simulator)', function () {
  let stack: TestStack;
  let client: TemporalClient;
  let fx: TenantFixture;
  let worker: RunningWorker | undefined;
  let api: TestApi;
  let reseller: { resellerId: string; apiKey: string };
  let other: { resellerId: string; apiKey: string };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-export-test-'));

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { BACKUP_RETENTION_DAYS: '3650' });
    worker = await startWorker(fx.config);
    api = await startApi(stack, client, { config: fx.config, accounts: fx.accounts });
    reseller = await newReseller(fx.accounts, 'Export MSP');
    other = await newReseller(fx.accounts, 'Another MSP');
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const storage = () => createStorageClient(stack.config.storage);

  async function newTenant(users: number): Promise<BackupTarget> {
    const ms = fx.sim.control.createTenant({ users, consentTo: [BACKUP_APP.clientId] });
    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId: reseller.resellerId,
      organizationId: 'org-test',
      directory: ms.id,
      storage: locatedStorage(stack.config.storage.locations[0]),
    };
    await client.workflow.start(tenantWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: tenantWorkflowId(target.tenantId),
      args: [
        {
          tenant: {
            ...target,
            plan: 'backup',
            backupImmediately: false,
            consentTimeoutMs: 60_000,
            createdAt: new Date().toISOString(),
          },
        },
      ],
    });
    return target;
  }

  async function backup(target: BackupTarget): Promise<string> {
    const result = await client.workflow.execute(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0 }],
    });
    assert.ok(result.snapshotId, 'the backup wrote a snapshot');
    return result.snapshotId;
  }

  const repositoryOf = (target: BackupTarget) =>
    Repository.open(
      new GcsObjectStore(storage().bucket(target.storage.bucket), repositoryLocation(target).prefix),
      fx.config.storage.masterKey,
    );

  async function call(method: string, url: string, body?: unknown, key = reseller.apiKey, base = api.baseUrl) {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { 'content-type': 'application/json', ...bearer(key) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as Json,
      type: res.headers.get('content-type'),
    };
  }

  /** Starts an export through the API and waits until it is no longer building. */
  async function exportThroughApi(
    tenantId: string,
    request: Json,
    base = api.baseUrl,
  ): Promise<Json & { jobId: string }> {
    const started = await call('POST', `/tenants/${tenantId}/exports`, request, reseller.apiKey, base);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const jobId = started.body.jobId as string;
    const done = await waitFor<Json>(
      'the export to finish',
      async () => {
        const res = await call('GET', `/tenants/${tenantId}/exports/${jobId}`, undefined, reseller.apiKey, base);
        return res.body.status === 'building' ? undefined : res.body;
      },
      120_000,
    );
    return { jobId, ...done };
  }

  /** Downloads a zip through its URL and unzips it with the system `unzip`; returns the folder. */
  async function download(url: string): Promise<string> {
    const res = await fetch(url);
    assert.equal(res.status, 200, `GET signed URL: ${res.status}`);
    const dir = fs.mkdtempSync(path.join(work, 'zip-'));
    fs.writeFileSync(path.join(dir, 'export.zip'), Buffer.from(await res.arrayBuffer()));
    execFileSync('unzip', ['-q', 'export.zip', '-d', 'out'], { cwd: dir });
    return path.join(dir, 'out');
  }

  const filesIn = (dir: string): string[] =>
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
      .sort();

  const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;

  /** What Graph lists now, in the stored form: the truth an unchanged snapshot equals. */
  async function tenantNow(config: AppConfig, directory: string, type: string): Promise<Map<string, Json>> {
    const tokens = new TokenProvider(config.entra);
    const graph = createGraphClient(config.entra, async () => (await tokens.acquire('backup', directory)).accessToken);
    const spec = listObjectTypes().find((t) => t.key === type)!;
    const out = new Map<string, Json>();
    if (spec.singleton) {
      const o = (await graph.api(firstPageUrl(type, { baseUrl: config.entra.graphBaseUrl })).get()) as Json;
      out.set(o[spec.idProperty] as string, storedForm(o));
      return out;
    }
    for (let url: string | undefined = firstPageUrl(type, { baseUrl: config.entra.graphBaseUrl }); url;) {
      const page = (await graph.api(url).get()) as { value: Json[]; '@odata.nextLink'?: string };
      for (const o of page.value) out.set(o[spec.idProperty] as string, storedForm(o));
      url = page['@odata.nextLink'];
    }
    return out;
  }

  /** `id` of an object file: the part after the last `__`, unescaped. */
  const idOf = (file: string) =>
    decodeURIComponent(
      path
        .basename(file)
        .replace(/\.json$/, '')
        .split('__')
        .pop()!,
    );

  it('exports a whole tenant: the zip from its signed URL unzips, its SHA256SUMS verify, every object equals Graph', async () => {
    const target = await newTenant(40);
    const binned = fx.sim.control.listObjects(target.directory, 'user', { limit: 5 })[4];
    fx.sim.control.deleteObject(target.directory, binned.id);
    const snapshotId = await backup(target);

    const done = await exportThroughApi(target.tenantId, { level: 'tenant', snapshotId });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const url = done.url as string;
    assert.match(url, /X-Goog-Algorithm=GOOG4-RSA-SHA256/);
    assert.match(url, /X-Goog-Expires=604\d\d\d/, 'valid for 7 days');
    const dir = await download(url);
    execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
    const files = filesIn(dir);
    const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
    assert.equal(sums.length, files.length - 1, 'SHA256SUMS lists every other file');

    const manifest = readJson(path.join(dir, 'manifest.json')) as {
      snapshot: { id: string; complete: boolean };
      level: string;
      counts: Record<string, { objects: number; inRecycleBin: number }>;
      coverage: Record<string, { status: string }>;
      tenant: { id: string };
    };
    assert.equal(manifest.snapshot.id, snapshotId);
    assert.equal(manifest.snapshot.complete, true);
    assert.equal(manifest.level, 'tenant');
    assert.equal(manifest.tenant.id, target.tenantId);
    assert.ok(fs.readFileSync(path.join(dir, 'README.txt'), 'utf8').includes('sha256sum -c SHA256SUMS'));
    assert.equal(
      done.objects,
      Object.values(manifest.counts).reduce((n, c) => n + c.objects, 0),
    );

    for (const spec of listObjectTypes()) {
      assert.equal(manifest.coverage[spec.key]?.status, 'captured', spec.key);
      const truth = await tenantNow(fx.config, target.directory, spec.key);
      const objectFiles = files.filter(
        (f) => f.startsWith(`${spec.key}/`) && !f.includes('/recycle-bin/') && /__[^.]*\.json$/.test(f),
      );
      assert.deepEqual(objectFiles.map(idOf).sort(), [...truth.keys()].sort(), `${spec.key}: objects`);
      for (const f of objectFiles) {
        const file = readJson(path.join(dir, f));
        assert.equal(typeof file['@odata.type'], 'string', `${f} names its OData type`);
        assert.equal(
          canonicalBytes(file).toString(),
          canonicalBytes(inGraphShape(spec.key, truth.get(idOf(f))!)).toString(),
          f,
        );
      }
    }
    const binnedFiles = files.filter((f) => f.startsWith('users/recycle-bin/') && /__[^.]*\.json$/.test(f));
    assert.deepEqual(binnedFiles.map(idOf), [binned.id], 'the user in the recycle bin, in its own folder');
    assert.equal(manifest.counts.users.inRecycleBin, 1);

    // A group's members beside it, in Graph's list shape.
    const repo = await repositoryOf(target);
    const group = (await repo.listEntries(snapshotId, 'groups')).find((e) => e.rels?.members)!;
    const membersFile = files.find((f) => f.startsWith('groups/') && f.endsWith(`__${group.id}.members.json`))!;
    assert.ok(membersFile, 'members file of the group');
    const members = readJson(path.join(dir, membersFile)) as { value: { id: string }[] };
    assert.deepEqual(
      members.value.map((m) => m.id).sort(),
      (await repo.readRelationship(group.rels!.members)).map((m) => m.id).sort(),
    );

    // System Status lists it, with what it wrote.
    const jobs = await call('GET', `/jobs?kind=export&tenantId=${target.tenantId}`);
    const job = (jobs.body.jobs as Json[]).find((j) => j.workflowId === exportWorkflowId(target.tenantId, done.jobId));
    assert.ok(job, 'the export is in GET /jobs');
    assert.equal(job.kind, 'export');
    assert.equal(job.status, 'completed');
    assert.equal((job.progress as { objects: number }).objects, done.objects);
    assert.ok((job.progress as { bytes: number }).bytes > 0);
    // From the finished export's memo, which visibility lists with it: no query (a replay on a worker) per export.
    const { memo } = await client.workflow.getHandle(exportWorkflowId(target.tenantId, done.jobId)).describe();
    assert.deepEqual(memo?.progress, job.progress, 'the list shows the progress the export recorded at its end');
    assert.equal((memo?.progress as { status: string }).status, 'completed');

    // One object type, and one object: exactly that.
    const typeZip = await exportThroughApi(target.tenantId, { level: 'type', type: 'groups', snapshotId });
    const typeFiles = filesIn(await download(typeZip.url as string));
    const groupIds = (await repo.listEntries(snapshotId, 'groups')).map((e) => e.id).sort();
    assert.deepEqual(
      typeFiles
        .filter((f) => /__[^.]*\.json$/.test(f))
        .map(idOf)
        .sort(),
      groupIds,
    );
    assert.ok(
      typeFiles.every((f) => f.startsWith('groups/') || ['README.txt', 'manifest.json', 'SHA256SUMS'].includes(f)),
    );

    const user = (await repo.listEntries(snapshotId, 'users')).find((e) => e.state === 'present')!;
    const objectZip = await exportThroughApi(target.tenantId, {
      level: 'object',
      type: 'users',
      objectId: user.id,
      snapshotId,
    });
    const objectDir = await download(objectZip.url as string);
    execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: objectDir });
    const objectFiles = filesIn(objectDir).filter((f) => f.endsWith('.json') && f !== 'manifest.json');
    assert.deepEqual(objectFiles.map(idOf), [user.id]);
    assert.deepEqual((readJson(path.join(objectDir, 'manifest.json')) as { filter: Json }).filter, {
      type: 'users',
      objectId: user.id,
    });
  });

  it('refuses unknown or foreign ids, bad levels and forgotten snapshots with problem+json, writing nothing', async () => {
    const target = await newTenant(5);
    const first = await backup(target);
    const second = await backup(target);
    await (await repositoryOf(target)).forget([first]);
    const base = `/tenants/${target.tenantId}`;
    const cases: [string, string, unknown, number, string?][] = [
      ['POST', `/tenants/${randomUUID()}/exports`, { level: 'tenant' }, 404],
      ['POST', `${base}/exports`, { level: 'tenant', snapshotId: 'a'.repeat(64) }, 404],
      ['POST', `${base}/exports`, { level: 'tenant', snapshotId: first }, 404],
      ['POST', `${base}/exports`, { level: 'type', type: 'unicorns' }, 404],
      ['POST', `${base}/exports`, { level: 'object', type: 'users', objectId: randomUUID() }, 404],
      ['POST', `${base}/exports`, { level: 'type' }, 400],
      ['POST', `${base}/exports`, { level: 'object', type: 'users' }, 400],
      ['POST', `${base}/exports`, { level: 'everything' }, 400],
      ['POST', `${base}/exports`, { level: 'tenant', snapshotId: 'not-an-id' }, 400],
      ['GET', `${base}/exports/${randomUUID()}`, undefined, 404],
      ['POST', `${base}/verifications`, { snapshotId: 'b'.repeat(64) }, 404],
      ['GET', `${base}/verifications/${randomUUID()}`, undefined, 404],
      ['POST', `${base}/exports`, { level: 'tenant' }, 404, other.apiKey],
      ['POST', `${base}/verifications`, {}, 404, other.apiKey],
    ];
    for (const [method, url, body, status, key] of cases) {
      const res = await call(method, url, body, key ?? reseller.apiKey);
      assert.equal(res.status, status, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.type ?? '', /application\/problem\+json/);
    }
    // A real export of the tenant is not visible to another reseller either.
    const done = await exportThroughApi(target.tenantId, { level: 'type', type: 'domains', snapshotId: second });
    assert.equal(done.status, 'completed');
    const foreign = await call('GET', `${base}/exports/${done.jobId}`, undefined, other.apiKey);
    assert.equal(foreign.status, 404);
    const [written] = await storage()
      .bucket(target.storage.bucket)
      .getFiles({ prefix: `${EXPORTS_PREFIX}${reseller.resellerId}/${target.tenantId}/` });
    assert.deepEqual(
      written.map((f) => f.name),
      [exportObjectName({ resellerId: reseller.resellerId, tenantId: target.tenantId, exportId: done.jobId })],
      'only the accepted export wrote anything',
    );
  });

  it('exports an incomplete snapshot only for its captured types, and says so in manifest.json', async () => {
    const target = await newTenant(10);
    const policyRead = fx.sim.control
      .listObjects(target.directory, 'appRoleAssignment')
      .find((a) => (a.data as { appRoleId?: string }).appRoleId === permissionId('Policy.Read.All'));
    assert.ok(policyRead, 'the assignment to remove exists');
    fx.sim.control.deleteObject(target.directory, policyRead.id, { hard: true });
    const snapshotId = await backup(target);

    const refused = await call('POST', `/tenants/${target.tenantId}/exports`, {
      level: 'type',
      type: 'conditionalAccessPolicies',
      snapshotId,
    });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.detail as string, /not captured.*permission-missing/);

    const done = await exportThroughApi(target.tenantId, { level: 'tenant', snapshotId });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const dir = await download(done.url as string);
    const manifest = readJson(path.join(dir, 'manifest.json')) as {
      snapshot: { complete: boolean };
      note?: string;
      exportedTypes: string[];
      coverage: Record<string, { status: string; reason?: string }>;
    };
    assert.equal(manifest.snapshot.complete, false);
    assert.match(manifest.note ?? '', /conditionalAccessPolicies/);
    assert.equal(manifest.coverage.conditionalAccessPolicies.reason, 'permission-missing');
    assert.ok(!manifest.exportedTypes.includes('conditionalAccessPolicies'));
    assert.ok(manifest.exportedTypes.includes('users'));
    assert.ok(!filesIn(dir).some((f) => f.startsWith('conditionalAccessPolicies/')));
  });

  it('a worker killed mid-export still yields exactly one valid zip at the URL', async function () {
    this.timeout(360_000);
    const target = await newTenant(4000);
    const snapshotId = await backup(target);
    const repo = await repositoryOf(target);
    let total = 0;
    for (const spec of listObjectTypes()) total += (await repo.listEntries(snapshotId, spec.key)).length;

    // The killed worker reads storage through a slow link, so it dies with the zip half built.
    const proxy = await slowProxy(Number(new URL(stack.config.storage.apiEndpoint!).port), 1_000_000);
    await worker!.stop();
    worker = undefined;
    const child = startWorkerProcess({ ...fx.env, STORAGE_API_ENDPOINT: proxy.url });
    const exportId = randomUUID();
    const ids = { resellerId: reseller.resellerId, tenantId: target.tenantId, exportId };
    const bucket = storage().bucket(target.storage.bucket);
    try {
      const req: ExportRequest = {
        ...ids,
        directory: target.directory,
        storage: target.storage,
        snapshotId,
        level: 'tenant',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        heartbeatTimeoutMs: 10_000,
      };
      const handle = await client.workflow.start(exportWorkflow, {
        taskQueue: fx.config.temporal.taskQueue,
        workflowId: exportWorkflowId(target.tenantId, exportId),
        args: [req],
      });
      await waitForExportHeartbeat(handle.workflowId);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the worker died mid-export');
      assert.equal((await bucket.file(exportObjectName(ids)).exists())[0], false, 'no zip yet');

      worker = await startWorker(fx.config);
      const result = await handle.result();
      assert.equal(result.objects, total);
      const { events } = await handle.fetchHistory();
      const attempts = events!
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      assert.ok(
        attempts.some((a) => (a ?? 0) >= 2),
        `the export activity was retried (attempts ${attempts.join(',')})`,
      );

      const got = await call('GET', `/tenants/${target.tenantId}/exports/${exportId}`);
      assert.equal(got.body.status, 'completed', JSON.stringify(got.body));
      const dir = await download(got.body.url as string);
      execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
      const objectFiles = filesIn(dir).filter((f) => /__[^.]*\.json$/.test(f));
      assert.equal(objectFiles.length, total, 'every object once');
      assert.equal(new Set(objectFiles).size, total);
      const [written] = await bucket.getFiles({ prefix: exportObjectPrefix(ids) });
      assert.deepEqual(
        written.map((f) => f.name),
        [exportObjectName(ids)],
        'exactly one zip, no leftover of the killed attempt',
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await proxy.close();
      worker ??= await startWorker(fx.config);
    }
  });

  it('one changed byte in a pack: the export fails naming the object and pack, verify reports the blob', async () => {
    const target = await newTenant(300);
    const snapshotId = await backup(target);
    const repo = await repositoryOf(target);
    // A user of the pack's first segment: several segments of users come before the type's manifest.
    const users = await repo.listEntries(snapshotId, 'users');
    let location;
    for await (const read of repo.readBlobsReporting(users.map((e) => e.contentHash))) {
      if (!location || read.location!.offset < location.offset) location = read.location!;
    }
    const user = users.find((e) => e.contentHash === location!.id)!;
    const pack = storage()
      .bucket(target.storage.bucket)
      .file(`${repositoryLocation(target).prefix}packs/${location!.packId}`);
    const [bytes] = await pack.download();
    bytes[location!.offset + 40] ^= 0x01;
    await pack.save(bytes, { resumable: false });

    const failed = await exportThroughApi(target.tenantId, { level: 'tenant', snapshotId });
    assert.equal(failed.status, 'failed', JSON.stringify(failed));
    assert.match(failed.error as string, new RegExp(`users object .*${user.id}`));
    assert.match(failed.error as string, new RegExp(`pack ${location!.packId}`));
    const [leftovers] = await storage()
      .bucket(target.storage.bucket)
      .getFiles({
        prefix: exportObjectPrefix({
          resellerId: reseller.resellerId,
          tenantId: target.tenantId,
          exportId: failed.jobId,
        }),
      });
    assert.deepEqual(leftovers, [], 'no zip with an unverified object');

    for (const body of [{ snapshotId }, {}]) {
      const started = await call('POST', `/tenants/${target.tenantId}/verifications`, body);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const report = await waitFor<Json>(
        'the verification',
        async () => {
          const res = await call('GET', `/tenants/${target.tenantId}/verifications/${started.body.jobId as string}`);
          return res.body.status === 'running' ? undefined : res.body;
        },
        60_000,
      );
      assert.equal(report.status, 'damaged', JSON.stringify(report));
      const bad = (report.report as { badBlobs: { blobId: string; packId: string; usedBy: string[] }[] }).badBlobs;
      const blob = bad.find((b) => b.blobId === user.contentHash);
      assert.ok(blob, `${JSON.stringify(body)}: the damaged user's blob is reported`);
      assert.equal(blob.packId, location!.packId);
      if ('snapshotId' in body) assert.ok(blob.usedBy.includes(`users/${user.id}`));
    }
    const jobs = await call('GET', `/jobs?kind=verify&tenantId=${target.tenantId}`);
    assert.equal((jobs.body.jobs as Json[]).length, 2);
    assert.ok((jobs.body.jobs as Json[]).every((j) => j.kind === 'verify' && j.status === 'damaged'));
  });

  it('deletes the export when its link expires (short expiry), whatever the bucket lifecycle does', async () => {
    const shortApi = await startApi(stack, client, {
      config: { ...fx.config, exports: { expirySeconds: 8 } },
      accounts: fx.accounts,
    });
    try {
      const target = await newTenant(5);
      await backup(target);
      const done = await exportThroughApi(target.tenantId, { level: 'type', type: 'users' }, shortApi.baseUrl);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      const file = storage()
        .bucket(target.storage.bucket)
        .file(exportObjectName({ resellerId: reseller.resellerId, tenantId: target.tenantId, exportId: done.jobId }));
      assert.equal((await file.exists())[0], true);
      await waitFor('the export to be deleted', async () => ((await file.exists())[0] ? undefined : true), 60_000);
      const after = await call('GET', `/tenants/${target.tenantId}/exports/${done.jobId}`);
      assert.equal(after.body.status, 'expired');
      assert.equal((await fetch(done.url as string)).status, 404, 'the old link leads nowhere');
    } finally {
      await shortApi.close();
    }
  });

  /** Waits until the export activity has heartbeated: it is building the zip. */
  async function waitForExportHeartbeat(workflowId: string): Promise<void> {
    await waitFor(
      'the export activity to heartbeat',
      async () => {
        const pending = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
        for (const a of pending) {
          if (a.activityType?.name !== 'buildExport' || !a.heartbeatDetails?.payloads?.length) continue;
          const details = await decodeFromPayloadsAtIndex<{ objects: number } | undefined>(
            client.options.loadedDataConverter,
            0,
            a.heartbeatDetails.payloads,
          );
          if (details) return true;
        }
        return undefined;
      },
      90_000,
    );
  }
});

/** A worker in its own process, so the test can kill it as a crash would. */
function startWorkerProcess(env: Record<string, string>): ChildProcess {
  const root = path.resolve(__dirname, '../..');
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
}

/** A TCP proxy to a local port whose answers arrive at `bytesPerSecond`: a slow link to storage. */
async function slowProxy(port: number, bytesPerSecond: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      setTimeout(
        () => {
          client.write(chunk);
          upstream.resume();
        },
        Math.ceil((chunk.length / bytesPerSecond) * 1000),
      );
    });
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) s.on('error', () => [client, upstream].forEach((x) => x.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
