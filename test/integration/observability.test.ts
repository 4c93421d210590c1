import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** A span as an OTLP/HTTP JSON export carries it, with the service.name of its resource. */
interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
}

/**
 * A stand-in OpenTelemetry collector: OTLP/HTTP with JSON bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) on
 * POST /v1/traces, keeping every span it is sent.
 */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  type Export = {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
      scopeSpans?: { spans?: { name: string; traceId: string }[] }[];
    }[];
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const exported = JSON.parse(body) as Export;
      for (const rs of exported.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) spans.push({ service, name: span.name, traceId: span.traceId });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
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
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;

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
    // Tracing on, as an operator turns it on: the standard variables, spans sent to a collector over OTLP/HTTP.
    otlp = await startOtlpReceiver();
    const tracing = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    worker = startProcess('worker/main.ts', { ...fx.env, ...tracing });
    api = startProcess('api/main.ts', { ...fx.env, ...tracing });
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
    const exportWorkflowId = ((await exported.json()) as { workflowId: string }).workflowId;
    await client.workflow.getHandle(exportWorkflowId).result();

    // A restore of one damaged user (Restore app consented, plan confirmed), for the restore-duration series.
    const { lastBackup } = (await (await call('GET', `/tenants/${tenantId}`)).json()) as {
      lastBackup: { snapshotId: string };
    };
    const restoreConsent = await call('POST', `/tenants/${tenantId}/consent-requests`, {
      app: 'restore',
      mode: 'permanent',
    });
    assert.equal(restoreConsent.status, 201, await restoreConsent.clone().text());
    const restoreConsentUrl = ((await restoreConsent.json()) as { consentUrl: string }).consentUrl;
    const restoreCallback = (await fetch(restoreConsentUrl, { redirect: 'manual' })).headers.get('location')!;
    assert.equal((await fetch(restoreCallback, { headers: { accept: 'application/json' } })).status, 200);
    await waitFor('the Restore app consent', async () => {
      const t = (await (await call('GET', `/tenants/${tenantId}`)).json()) as { restoreApp: { state: string } };
      return t.restoreApp.state === 'granted' ? true : undefined;
    });
    const user = fx.sim.control.listObjects(directory, 'user', { limit: 1 })[0];
    fx.sim.control.updateObject(directory, user.id, { jobTitle: 'Damaged' });
    const requested = await call('POST', `/tenants/${tenantId}/restores`, {
      snapshotId: lastBackup.snapshotId,
      objects: [{ type: 'users', id: user.id }],
    });
    assert.equal(requested.status, 202, await requested.clone().text());
    const { restoreId } = (await requested.json()) as { restoreId: string };
    const restoreState = async () =>
      (await (await call('GET', `/tenants/${tenantId}/restores/${restoreId}`)).json()) as {
        status: string;
        plan?: { hash: string };
      };
    const planned = await waitFor('the restore plan', async () => {
      const r = await restoreState();
      return r.status === 'awaiting-confirmation' ? r : undefined;
    });
    const confirmed = await call('POST', `/tenants/${tenantId}/restores/${restoreId}/confirmation`, {
      planHash: planned.plan!.hash,
    });
    assert.equal(confirmed.status, 202, await confirmed.clone().text());
    const restored = await waitFor('the restore', async () => {
      const r = await restoreState();
      return ['completed', 'partly-completed', 'failed'].includes(r.status) ? r : undefined;
    });
    assert.equal(restored.status, 'completed');
  });

  after(async () => {
    await api?.stop();
    await worker?.stop();
    await otlp?.close();
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
    assert.match(
      text,
      /^entra_backup_restore_duration\w*_count\{[^}]*outcome="completed"[^}]*\} 1$/m,
      'restore duration',
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

  it('with OTEL_TRACES_EXPORTER=otlp, API and worker send their spans to the collector, one trace per job', async () => {
    // Batched every 200 ms (OTEL_BSP_SCHEDULE_DELAY); workflow spans leave the sandbox at the end of an activation.
    const spans = await waitFor('the restore run span', async () =>
      otlp.spans.some((s) => s.name === 'RunWorkflow:restoreWorkflow') ? otlp.spans : undefined,
    );
    const api = spans.filter((s) => s.service === 'entra-backup-api');
    const worker = spans.filter((s) => s.service === 'entra-backup-worker');
    assert.ok(
      api.some((s) => s.name === 'POST /tenants'),
      "the API's request spans",
    );
    assert.ok(
      worker.some((s) => s.name === 'RunActivity:captureType'),
      "the worker's activity spans",
    );
    assert.ok(
      worker.some((s) => s.name === 'storage.write'),
      "the worker's storage spans",
    );
    assert.ok(
      worker.some((s) => s.name === 'RunWorkflow:tenantBackupWorkflow'),
      'workflow spans, through the sink',
    );
    // The export: its request in the API and its run in the worker, one trace across the two processes.
    const exportRequest = api.find((s) => s.name === 'POST /tenants/{tenantId}/exports');
    assert.ok(exportRequest, 'the export request span');
    const exportTrace = worker.filter((s) => s.traceId === exportRequest.traceId).map((s) => s.name);
    assert.ok(exportTrace.includes('RunWorkflow:exportWorkflow'), exportTrace.join(', '));
    assert.ok(
      exportTrace.some((n) => n.startsWith('RunActivity:')),
      'and its activities',
    );
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
