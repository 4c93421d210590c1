import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { freePort } from '../../devstack/ports';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/http';
import { BACKUP_APP, RESTORE_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';

/** An entry point (worker/main.ts, api/main.ts) in a process of its own, its stdout and stderr kept. */
function startProcess(
  entry: string,
  env: Record<string, string>,
): ChildProcess & { output(): string; stop(): Promise<void> } {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, {
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  });
}

/** The value of one series (name and labels as they appear in the exposition), or undefined when absent. */
function seriesValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{((?:[^"}]|"[^"]*")*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('observability: /metrics of API and worker, and their logs (entry points in processes of their own)', () => {
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: ReturnType<typeof startProcess> | undefined;
  let api: ReturnType<typeof startProcess> | undefined;
  let workerMetricsUrl: string;
  let apiUrl: string;
  let apiKey: string;
  let directory: string;
  let tenantId: string;

  before(async function () {
    this.timeout(240_000);
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    const metricsPort = await freePort();
    fx = await startTenantFixture(stack, client, {
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'debug',
      CONSENT_TIMEOUT_SECONDS: '600',
    });
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    apiUrl = `http://127.0.0.1:${fx.apiPort}`;
    worker = startProcess('worker/main.ts', fx.env);
    api = startProcess('api/main.ts', fx.env);
    await waitFor(
      'the API',
      () =>
        fetch(`${apiUrl}/healthz`).then(
          (r) => (r.status < 500 ? true : undefined),
          () => undefined,
        ),
      120_000,
    );
    await waitFor(
      'the worker /metrics',
      () =>
        fetch(workerMetricsUrl).then(
          (r) => (r.ok ? true : undefined),
          () => undefined,
        ),
      120_000,
    );

    // A reseller, a tenant, its consent, and the first backup the consent triggers: all through the API process.
    const reseller = await fx.accounts.createReseller({ name: 'Observed MSP' });
    const organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Observed Org' })).id;
    apiKey = (await fx.accounts.createApiKey(reseller.id)).apiKey;
    const ms = fx.sim.control.createTenant({ users: 30, consentMode: 'accept' });
    directory = ms.id;
    const call = (method: string, p: string, body?: unknown) =>
      fetch(`${apiUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await call('POST', '/tenants', {
      organizationId,
      directory,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: true,
    });
    assert.equal(created.status, 201, await created.clone().text());
    tenantId = ((await created.json()) as { tenantId: string }).tenantId;
    const consent = await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' });
    const { consentUrl } = (await consent.json()) as { consentUrl: string };
    const callbackUrl = (await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!;
    assert.equal((await fetch(callbackUrl, { headers: { accept: 'application/json' } })).status, 200);
    await waitFor(
      'the first backup',
      async () => {
        const t = (await (await call('GET', `/tenants/${tenantId}`)).json()) as { lastBackup?: { status: string } };
        return t.lastBackup?.status === 'completed' ? true : undefined;
      },
      180_000,
    );
    // An export of the backup, for the export-duration series.
    const exported = await call('POST', `/tenants/${tenantId}/exports`, { level: 'type', type: 'users' });
    assert.equal(exported.status, 202, await exported.clone().text());
    const { workflowId } = (await exported.json()) as { workflowId: string };
    await client.workflow.getHandle(workflowId).result();
  });

  after(async () => {
    await api?.stop();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  it('the worker /metrics shows backups, objects, Graph and storage series, and the SDK runtime metrics', async () => {
    const text = await (await fetch(workerMetricsUrl)).text();
    assert.ok(
      (seriesValue(text, 'entra_backup_backups_total', { outcome: 'completed' }) ?? 0) >= 1,
      'backups by outcome',
    );
    assert.ok(
      (seriesValue(text, 'entra_backup_objects_captured_total', { type: 'users' }) ?? 0) >= 30,
      'users captured',
    );
    assert.ok((seriesValue(text, 'entra_backup_type_captures_total', { outcome: 'captured' }) ?? 0) > 0);
    const sizeClass = /entra_backup_graph_requests_total\{size_class="([SML])"\}/.exec(text)?.[1];
    assert.ok(sizeClass, 'Graph requests by tenant-size class');
    assert.ok((seriesValue(text, 'entra_backup_graph_requests_total', { size_class: sizeClass }) ?? 0) > 0);
    assert.ok((seriesValue(text, 'entra_backup_graph_resource_units_total', { size_class: sizeClass }) ?? 0) > 0);
    for (const name of ['entra_backup_graph_throttled_total', 'entra_backup_graph_throttled_wait_seconds_total']) {
      assert.match(text, new RegExp(`# TYPE ${name} counter`));
    }
    assert.ok((seriesValue(text, 'entra_backup_storage_bytes_written_total') ?? 0) > 0, 'storage bytes written');
    assert.ok((seriesValue(text, 'entra_backup_consent_checks_total', { app: 'backup', state: 'granted' }) ?? 0) >= 1);
    // Export (and restore) durations: histograms of the workflow meter, which Core's exporter shows once recorded.
    assert.match(
      text,
      /^entra_backup_export_duration\w*_count\{[^}]*outcome="completed"[^}]*\} 1$/m,
      'export duration',
    );
    assert.match(text, /^temporal_\w+/m, "Core's Prometheus exporter is merged in");
    assert.doesNotMatch(text, new RegExp(tenantId), 'no tenant id in any series');
    assert.doesNotMatch(text, new RegExp(directory), 'no directory id in any series');
  });

  it('the API /metrics shows requests by route and status, and tenants by status, without an API key', async () => {
    const text = await (await fetch(`${apiUrl}/metrics`)).text();
    assert.ok(
      (seriesValue(text, 'entra_backup_api_requests_total', { method: 'POST', route: '/tenants', status: '201' }) ??
        0) >= 1,
    );
    assert.ok(
      (seriesValue(text, 'entra_backup_api_requests_total', { route: '/tenants/{tenantId}', status: '200' }) ?? 0) >= 1,
    );
    assert.ok((seriesValue(text, 'entra_backup_tenants', { status: 'active' }) ?? 0) >= 1, 'tenants by status');
    assert.doesNotMatch(text, new RegExp(tenantId), 'no tenant id in any series');
  });

  it('logs are JSON lines with job, workflow and tenant ids, and hold no secret, token or directory attribute', () => {
    const forbidden = new Set<string>([
      BACKUP_APP.secret,
      RESTORE_APP.secret,
      apiKey,
      fx.config.entra.consentStateKey,
      fx.config.storage.masterKey,
    ]);
    for (const kind of ['user', 'group'] as const) {
      for (const o of fx.sim.control.listObjects(directory, kind)) {
        const data = o.data as Record<string, unknown>;
        for (const key of ['displayName', 'userPrincipalName', 'mail', 'mailNickname']) {
          const value = data[key];
          if (typeof value === 'string' && value.length >= 6) forbidden.add(value);
        }
      }
    }
    for (const [name, proc] of [
      ['worker', worker!],
      ['api', api!],
    ] as const) {
      const lines = proc
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '');
      assert.ok(lines.length > 0, `${name} logged`);
      const records = lines.map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          assert.fail(`${name} wrote a line that is not JSON: ${l.slice(0, 200)}`);
        }
      });
      for (const r of records) assert.equal(r.service, name);
      for (const secret of forbidden) {
        const hit = lines.find((l) => l.includes(secret));
        assert.equal(hit, undefined, `${name} logged '${secret}'`);
      }
      assert.doesNotMatch(proc.output(), /eyJ[\w-]{10,}\.eyJ[\w-]{10,}/, `${name} logged an access token`);
      const ofTenant = records.filter((r) => r.tenantId === tenantId);
      assert.ok(ofTenant.length > 0, `${name} logged records with the tenant id`);
      if (name === 'worker') {
        // The SDK's workflow and activity loggers, through our logger: same format, with the job's ids.
        assert.ok(ofTenant.some((r) => r.activityType === 'captureType' && r.workflowId && r.activityId));
        assert.ok(ofTenant.some((r) => r.workflowType === 'tenantBackupWorkflow' && r.msg === 'Workflow started'));
      }
    }
  });
});
