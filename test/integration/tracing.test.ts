import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
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

  it('follows the API call to the workflow and its activities, and the run to each Graph batch and storage write', async function () {
    this.timeout(180_000);
    exporter.reset();
    const res = await call('POST', `/tenants/${tenantId}/backups`);
    assert.equal(res.status, 202, await res.clone().text());
    const { workflowId } = (await res.json()) as { workflowId: string };
    const result = (await client.workflow.getHandle(workflowId).result()) as { status: string };
    assert.equal(result.status, 'completed');
    // Workflow spans leave the sandbox through a sink at the end of each activation: give the last one a moment.
    const spans = await waitFor('the backup run span', async () => {
      const all = exporter.getFinishedSpans();
      return all.some((s) => s.name === 'RunWorkflow:tenantBackupWorkflow' && s.parentSpanId === undefined)
        ? all
        : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const chain = (s: ReadableSpan) => {
      const names: string[] = [];
      for (let p: ReadableSpan | undefined = s; p; p = parentOf(p)) names.unshift(p.name);
      return names;
    };

    // The API call's trace: request → the client's update. The tenant workflow's update handler is not wrapped (see
    // worker/workflow-interceptors.ts), so the trigger activity it schedules continues the tenant workflow's trace.
    const request = spans.find((s) => s.name === 'POST /tenants/{tenantId}/backups');
    assert.ok(request, 'the API request span');
    assert.equal(request.parentSpanId, undefined, 'the request is the root of its trace');
    const update = spans.find((s) => s.name === 'StartWorkflowUpdate:backupNow');
    assert.ok(update, 'the update span');
    assert.deepEqual(chain(update), ['POST /tenants/{tenantId}/backups', 'StartWorkflowUpdate:backupNow']);
    const trigger = spans.find((s) => s.name === 'RunActivity:triggerBackup');
    assert.ok(trigger, 'the trigger activity span');
    assert.equal(parentOf(trigger)?.name, 'StartActivity:triggerBackup');
    assert.equal(trigger.attributes['backup.workflow_id'], workflowId, 'the trigger names the run it started');

    // The run's trace: workflow → its activities → each Graph request and $batch, each storage write.
    const run = spans.find((s) => s.name === 'RunWorkflow:tenantBackupWorkflow')!;
    const inRun = spans.filter((s) => s.spanContext().traceId === run.spanContext().traceId);
    const captures = inRun.filter((s) => s.name === 'RunActivity:captureType');
    assert.ok(captures.length > 5, 'one span per captured type');
    for (const c of captures)
      assert.deepEqual(chain(c), [
        'RunWorkflow:tenantBackupWorkflow',
        'StartActivity:captureType',
        'RunActivity:captureType',
      ]);
    const batch = inRun.find((s) => s.name === 'graph.batch');
    assert.ok(batch, 'a $batch of relationships');
    assert.equal(parentOf(batch)?.name, 'RunActivity:captureType');
    assert.ok(
      inRun.some((s) => s.name === 'graph POST' && parentOf(s) === batch),
      'the batch request on the wire',
    );
    const reads = inRun.filter((s) => s.name === 'graph GET');
    assert.ok(
      reads.length > 0 &&
        reads.every(
          (s) => chain(s).includes('RunActivity:captureType') || chain(s).includes('RunActivity:checkTenantAccess'),
        ),
    );
    const writes = inRun.filter((s) => s.name === 'storage.write');
    assert.ok(writes.length > 0, 'storage writes');
    for (const w of writes)
      assert.match(chain(w).join(' > '), /^RunWorkflow:tenantBackupWorkflow > StartActivity:\w+ > RunActivity:\w+/);
    assert.ok(chain(run).length === 1);
    assert.ok(inRun.some((s) => s.name === 'RunActivity:commitSnapshot'));
    // Span attributes carry ids and counts, never a URL's query (skip and delta tokens) or directory data.
    for (const s of spans) assert.ok(!String(s.attributes['url.path'] ?? '').includes('?'));
  });
});
