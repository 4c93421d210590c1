import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { connectClient } from '../../temporal/connection';
import { createDataConverter } from '../../temporal/data-converter';
import { backupScheduleId, tenantWorkflowId } from '../../tenants/types';
import { workflowInterceptorModules, workflowSinks } from '../../worker/create-worker';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { startFixtureApi, startTenantFixture, type FixtureApi, type TenantFixture } from '../helpers/tenant-fixture';

describe('tracing: the span tree of one Backup now (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let provider: node.NodeTracerProvider;
  let stack: TestStack;
  let client: Client;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: FixtureApi;
  let call: (method: string, path: string, body?: unknown) => Promise<Response>;
  let tenantId: string;
  let lastBackupId: string;

  before(async function () {
    this.timeout(180_000);
    // What the NodeSDK does in production when OTEL_TRACES_EXPORTER is set: a global provider and context manager.
    provider = new node.NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    fx = await startTenantFixture(stack, client, { CONSENT_TIMEOUT_SECONDS: '600' });
    worker = await startWorker(fx.config);
    api = await startFixtureApi(fx, client);
    const reseller = await fx.accounts.createReseller({ name: 'Traced MSP' });
    const organizationId = (await fx.accounts.createOrganization(reseller.id, { name: 'Traced Org' })).id;
    const { apiKey } = await fx.accounts.createApiKey(reseller.id);
    call = (method, path, body) =>
      fetch(`${api.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const ms = fx.sim.control.createTenant({ users: 30, consentMode: 'accept' });
    const created = await call('POST', '/tenants', {
      organizationId,
      directory: ms.id,
      storageLocationId: 'default',
      plan: 'backup',
      backupImmediately: false,
    });
    tenantId = ((await created.json()) as { tenantId: string }).tenantId;
    const { consentUrl } = (await (
      await call('POST', `/tenants/${tenantId}/consent-requests`, { app: 'backup' })
    ).json()) as { consentUrl: string };
    const callbackUrl = (await fetch(consentUrl, { redirect: 'manual' })).headers.get('location')!;
    await fetch(callbackUrl, { headers: { accept: 'application/json' } });
    await waitFor('active', async () => {
      const t = (await (await call('GET', `/tenants/${tenantId}`)).json()) as { status: string };
      return t.status === 'active' ? true : undefined;
    });
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
    await provider?.shutdown();
    // The other test files of this mocha process run without tracing again.
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('follows one Backup now in one trace: API call, tenant workflow, the backup run, its activities, each Graph batch and storage write', async function () {
    this.timeout(180_000);
    exporter.reset();
    const res = await call('POST', `/tenants/${tenantId}/backups`);
    assert.equal(res.status, 202, await res.clone().text());
    const { workflowId } = (await res.json()) as { workflowId: string };
    lastBackupId = workflowId;
    const result = (await client.workflow.getHandle(workflowId).result()) as { status: string };
    assert.equal(result.status, 'completed');
    // The run's retention child (in the same trace) goes on after the run: wait for it, so every span has ended.
    await client.workflow.getHandle(`retention:${tenantId}:${workflowId}`).result();
    const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /tenants/{tenantId}/backups');
    assert.ok(request, 'the API request span');
    assert.equal(request.parentSpanId, undefined, 'the request is the root of its trace');
    const traceId = request.spanContext().traceId;
    // Workflow spans leave the sandbox through a sink at the end of each activation: give the last one a moment.
    const spans = await waitFor('the backup run span', async () => {
      const all = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const ended = [
        'RunWorkflow:tenantBackupWorkflow',
        'RunWorkflow:retentionWorkflow',
        'HandleSignal:backupFinished',
      ];
      return ended.every((name) => all.some((s) => s.name === name)) ? all : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const chain = (s: ReadableSpan) => {
      const names: string[] = [];
      for (let p: ReadableSpan | undefined = s; p; p = parentOf(p)) names.unshift(p.name);
      return names;
    };
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      assert.equal(found.length, 1, `one ${name} span in the trace`);
      return found[0];
    };

    // Request → the client's update → the tenant workflow's update handler → the trigger activity → the run the
    // schedule started (the trigger put this trace's context on the schedule's action for that one run).
    const run = one('RunWorkflow:tenantBackupWorkflow');
    const upToRun = [
      'POST /tenants/{tenantId}/backups',
      'StartWorkflowUpdate:backupNow',
      'HandleUpdate:backupNow',
      'StartActivity:triggerBackup',
      'RunActivity:triggerBackup',
      'RunWorkflow:tenantBackupWorkflow',
    ];
    assert.deepEqual(chain(run), upToRun);
    assert.equal(one('RunActivity:triggerBackup').attributes['backup.workflow_id'], workflowId);
    // Every span of the trace hangs from the request: nothing lost its parent on the way.
    for (const s of spans)
      assert.equal(chain(s)[0], 'POST /tenants/{tenantId}/backups', `${s.name} reaches the request`);

    // The run → its activities → each Graph request and $batch, each storage write.
    const captures = spans.filter((s) => s.name === 'RunActivity:captureType');
    assert.ok(captures.length > 5, 'one span per captured type');
    for (const c of captures)
      assert.deepEqual(chain(c), [...upToRun, 'StartActivity:captureType', 'RunActivity:captureType']);
    const batch = spans.find((s) => s.name === 'graph.batch');
    assert.ok(batch, 'a $batch of relationships');
    assert.equal(parentOf(batch)?.name, 'RunActivity:captureType');
    assert.ok(
      spans.some((s) => s.name === 'graph POST' && parentOf(s) === batch),
      'the batch request on the wire',
    );
    const reads = spans.filter((s) => s.name === 'graph GET');
    assert.ok(
      reads.length > 0 &&
        reads.every(
          (s) => chain(s).includes('RunActivity:captureType') || chain(s).includes('RunActivity:checkTenantAccess'),
        ),
    );
    const writes = spans.filter((s) => s.name === 'storage.write');
    assert.ok(writes.length > 0, 'storage writes');
    // Inside an activity of the run, or of the retention run it starts (a prune writes its lock and new packs).
    for (const w of writes)
      assert.match(
        chain(w).slice(upToRun.length).join(' > '),
        /^(StartChildWorkflow:\w+ > RunWorkflow:\w+ > )?StartActivity:\w+ > RunActivity:\w+/,
        `a storage write inside an activity of the run: ${chain(w).join(' > ')}`,
      );
    assert.ok(spans.some((s) => s.name === 'RunActivity:commitSnapshot'));
    // Span attributes carry ids and counts, never a URL's query (skip and delta tokens) or directory data.
    for (const s of spans) assert.ok(!String(s.attributes['url.path'] ?? '').includes('?'));

    // The context was on the schedule for this run only: the daily runs start traces of their own.
    const schedule = await client.schedule.getHandle(backupScheduleId(tenantId)).describe();
    assert.deepEqual(Object.keys(schedule.raw.schedule?.action?.startWorkflow?.header?.fields ?? {}), []);
  });

  it('replays the traced tenant workflow and backup run as recorded (the interceptors keep replay deterministic)', async function () {
    this.timeout(120_000);
    const histories = await Promise.all(
      [tenantWorkflowId(tenantId), lastBackupId].map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories(
      {
        workflowsPath: require.resolve('../../workflows'),
        dataConverter: createDataConverter(fx.config.temporal.payloadEncryption),
        interceptors: { workflowModules: workflowInterceptorModules },
        sinks: workflowSinks(),
      },
      histories,
    ))
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    assert.deepEqual(failures, []);
  });
});
