import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client as TemporalClient } from '@temporalio/client';
import type { Client as GraphClient } from '@microsoft/microsoft-graph-client';
import { createStorageClient } from '../../storage/gcs-client';
import { canonicalBytes } from '../../storage/canonical-json';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import { firstPageUrl, listObjectTypes } from '../../catalog';
import { TokenProvider } from '../../activities/graph/token-provider';
import { storedForm } from '../../storage/stored-form';
import { repositoryLocation } from '../../activities/backup/repositories';
import { createGraphClient } from '../../activities/graph/graph-client';
import { backupProgressQuery, tenantBackupWorkflow, type BackupOptions } from '../../workflows';
import type { BackupTarget, Plan } from '../../tenants/types';
import type { TestStack } from './stack';
import { waitFor } from './http';
import { BACKUP_APP, startTenantFixture, type TenantFixture } from './tenant-fixture';
import { connectClient } from '../../temporal/connection';
import { startTargetTenantWorkflow } from '../../scripts/tenant-workflow';
import { stopProcess } from '../../scripts/stop-process';

/**
 * What the fault suite (test/faults/) needs around one backup: a simulated tenant with its tenant workflow, a way to
 * run a backup, the tenant's repository, and the check that a snapshot equals the tenant object for object.
 */
export function backupFixture(stack: TestStack, client: TemporalClient, fx: TenantFixture) {
  /** A simulated customer tenant, our tenant record for it, and where its backups go. */
  async function newTenant(users: number, plan: Plan = 'backup'): Promise<BackupTarget> {
    const ms = fx.sim.control.createTenant({ users, consentTo: [BACKUP_APP.clientId] });
    const target: BackupTarget = {
      tenantId: randomUUID(),
      resellerId: 'rsl-test',
      organizationId: 'org-test',
      directory: ms.id,
      storage: { bucket: stack.config.storage.defaultBucket, prefix: `faults/${randomUUID()}`, region: 'local' },
    };
    await startTargetTenantWorkflow(client, fx.config.temporal.taskQueue, target, { plan, consentTimeoutMs: 600_000 });
    return target;
  }

  const startBackup = (target: BackupTarget, options: BackupOptions = {}) =>
    client.workflow.start(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0, ...options }],
    });

  const repositoryOf = (target: BackupTarget) =>
    Repository.open(
      new GcsObjectStore(
        createStorageClient(stack.config.storage).bucket(target.storage.bucket),
        repositoryLocation(target).prefix,
      ),
      fx.config.storage.masterKey,
    );

  /** Why a snapshot is not complete, for assertion messages. */
  async function skippedDetail(target: BackupTarget, snapshotId?: string): Promise<string> {
    if (!snapshotId) return 'no snapshot';
    const record = await (await repositoryOf(target)).getSnapshot(snapshotId);
    return Object.entries(record.types)
      .filter(([, t]) => t.status === 'skipped')
      .map(([type, t]) => `${type}: ${t.status === 'skipped' ? t.detail : ''}`)
      .join('; ');
  }

  /** What Graph says now, read with the catalog's own $select: the truth a snapshot must equal. */
  async function tenantNow(directory: string, type: string): Promise<Map<string, Record<string, unknown>>> {
    const tokens = new TokenProvider(fx.config.entra);
    const graph: GraphClient = createGraphClient(
      fx.config.entra,
      async () => (await tokens.acquire('backup', directory)).accessToken,
    );
    const spec = listObjectTypes().find((t) => t.key === type)!;
    const out = new Map<string, Record<string, unknown>>();
    if (spec.singleton) {
      const url = firstPageUrl(type, { baseUrl: fx.config.entra.graphBaseUrl });
      const o = (await graph.api(url).get()) as Record<string, unknown>;
      out.set(o[spec.idProperty] as string, storedForm(o));
      return out;
    }
    for (let url: string | undefined = firstPageUrl(type, { baseUrl: fx.config.entra.graphBaseUrl }); url;) {
      const page = (await graph.api(url).get()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
      for (const o of page.value) out.set(o[spec.idProperty] as string, storedForm(o));
      url = page['@odata.nextLink'];
    }
    return out;
  }

  /**
   * Every present object of the snapshot equals the tenant, byte for byte in canonical JSON; no object is missing and
   * none is listed twice. Returns how many objects were compared.
   */
  async function assertSnapshotEqualsTenant(target: BackupTarget, snapshotId: string, types: string[]) {
    const repo = await repositoryOf(target);
    let objects = 0;
    for (const type of types) {
      const truth = await tenantNow(target.directory, type);
      const entries = (await repo.listEntries(snapshotId, type)).filter((e) => e.state === 'present');
      const ids = entries.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, `${type}: an object is listed twice`);
      assert.deepEqual([...ids].sort(), [...truth.keys()].sort(), `${type}: ids differ`);
      for (const e of entries) {
        const stored = await repo.readObject(e.contentHash);
        assert.equal(canonicalBytes(stored).toString(), canonicalBytes(truth.get(e.id)).toString(), `${type} ${e.id}`);
      }
      objects += entries.length;
    }
    return objects;
  }

  /**
   * A backup of `target` with a fault in its middle: the simulated Graph is slowed so that the backup is still reading
   * when `fault` runs (once it has read its first objects). The run may fail cleanly, but then the next one must
   * complete; the completed snapshot must equal the tenant. Returns what happened, for the test's log line.
   */
  async function backupThroughFault(target: BackupTarget, fault: () => Promise<void>, options: BackupOptions = {}) {
    fx.sim.control.setLatency({ baseMs: 30, jitterMs: 20 });
    const started = Date.now();
    const run = await startBackup(target, options);
    let readBefore: number;
    try {
      readBefore = await waitFor(
        'the backup to read its first objects',
        async () => {
          const progress = await run.query(backupProgressQuery).catch((err: unknown) => {
            // A query is answered only once a worker polls: the fault suite's worker, started in its own process with
            // the test, may still be loading its workflow bundle on a busy machine. Asked again.
            if (String((err as Error).cause).includes('DEADLINE_EXCEEDED')) return undefined;
            throw err;
          });
          return progress && progress.objectsRead > 0 ? progress.objectsRead : undefined;
        },
        120_000,
      );
      await fault();
    } finally {
      fx.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    }
    let result = await run
      .result()
      .catch((err: Error) => ({ status: `failed: ${err.message}`, snapshotId: undefined }));
    let note = `the run ${result.status}`;
    if (result.status !== 'completed') {
      // Failing cleanly is allowed; the next run must then complete.
      result = await (await startBackup(target)).result();
      note += `, the next run ${result.status}`;
    }
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.status, 'completed', await skippedDetail(target, result.snapshotId));
    const objects = await assertSnapshotEqualsTenant(target, result.snapshotId!, comparedTypes);
    return { run, readBefore, note, seconds, objects };
  }

  return {
    newTenant,
    startBackup,
    repositoryOf,
    skippedDetail,
    tenantNow,
    assertSnapshotEqualsTenant,
    backupThroughFault,
  };
}

export type FaultFixture = Awaited<ReturnType<typeof startFaultFixture>>;

/**
 * What a fault test runs against: a Temporal client, the simulator and configuration of a tenant fixture loaded with
 * `env`, and the product's worker in a process of its own; `stop()` ends them.
 */
export async function startFaultFixture(stack: TestStack, env: Record<string, string>) {
  const client = await connectClient(stack.config.temporal);
  const fx = await startTenantFixture(stack, client, env).catch(async (err: unknown) => {
    await client.connection.close();
    throw err;
  });
  const worker = startWorkerProcess(fx.env);
  return {
    client,
    fx,
    worker,
    async stop() {
      await worker.stop();
      await fx.sim.close();
      await client.connection.close();
    },
  };
}

/** The object types every fault test compares (the ones a small simulated tenant has plenty of). */
export const comparedTypes = ['users', 'groups', 'applications', 'servicePrincipals'];

/**
 * The product's worker in a process of its own: a crash test can kill it, and its CPU work does not delay the
 * in-process simulator's clock (which would make requests sent in time look early against a Retry-After).
 */
export function startWorkerProcess(env: Record<string, string>): ChildProcess & { stop(): Promise<void> } {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  return Object.assign(child, {
    stop: () => stopProcess(child, 20_000),
  });
}

/**
 * Nothing readable in Temporal that should not be (issue 15 item 7): the whole history of each workflow — failure
 * messages and stack traces included, where activities' errors end up — holds none of the tenant's directory data
 * (names, user principal names, mail addresses), no secret of ours and no access token. Payloads are encrypted by the
 * codec, so only what Temporal keeps in the clear can match.
 */
export async function assertHistoriesHoldNoDirectoryData(
  client: TemporalClient,
  fx: TenantFixture,
  directory: string,
  workflowIds: string[],
): Promise<number> {
  const forbidden = new Set<string>([BACKUP_APP.secret, fx.config.storage.masterKey, fx.config.entra.consentStateKey]);
  for (const kind of ['user', 'group', 'application'] as const) {
    for (const o of fx.sim.control.listObjects(directory, kind)) {
      const data = o.data as Record<string, unknown>;
      for (const key of ['displayName', 'userPrincipalName', 'mail', 'mailNickname']) {
        const value = data[key];
        if (typeof value === 'string' && value.length >= 6) forbidden.add(value);
      }
    }
  }
  let events = 0;
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    events += history.events?.length ?? 0;
    // Binary fields (payload data, encrypted) as text too: a payload that escaped the codec would show here.
    const text = JSON.stringify(history, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
    );
    for (const secret of forbidden) {
      if (secret.length >= 6) assert.ok(!text.includes(secret), `the history of ${id} holds '${secret}'`);
    }
    assert.doesNotMatch(text, /eyJ[\w-]{10,}\.eyJ[\w-]{10,}/, `the history of ${id} holds an access token`);
  }
  return events;
}
