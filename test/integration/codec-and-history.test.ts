import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { DefaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { developmentCodecToken } from '../../temporal.config';
import { connectClient } from '../../temporal/connection';
import { createEncryptionCodec } from '../../temporal/data-converter';
import { parseApiKey } from '../../accounts/api-key';
import { organizationsQuery, resellerAccountWorkflowId } from '../../workflows/reseller-account-messages';
import { resellerAccountWorkflow } from '../../workflows/reseller-account';
import { storageProbeWorkflow } from '../../workflows';
import { payloadsToJson } from '../../api/codec/payload-json';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { bearer, newReseller, startApi, type TestApi } from '../helpers/accounts';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every payload of a history, except search attributes (indexed by the server, so never encrypted). */
/** The OpenTelemetry interceptors' header (`TRACE_HEADER` of @temporalio/interceptors-opentelemetry). */
const TRACE_HEADER = '_tracer-data';

/** The marker `patched()` records: Temporal Core writes its details (the patch id) itself, without the codec. */
const PATCH_MARKER = 'core_patch';

/**
 * Every payload of a history but its trace headers, which `traceHeadersOf` checks: Temporal's clients do not run the
 * payload codec over headers, and the one header we set carries a W3C trace context (ids, no data); nor the
 * details of patch markers, which `patchMarkersOf` checks.
 */
function payloadsOf(value: unknown, found: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  if ((value as { markerName?: string }).markerName === PATCH_MARKER) return found;
  const candidate = value as Payload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
    found.push(candidate);
    return found;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === TRACE_HEADER) continue;
    if (key !== 'searchAttributes' && key !== 'indexedFields') payloadsOf(child, found);
  }
  return found;
}

function patchMarkersOf(history: temporal.api.history.v1.IHistory): Payload[] {
  return (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === PATCH_MARKER)
    .flatMap((m) => Object.values(m!.details ?? {}).flatMap((d) => d.payloads ?? []));
}

function traceHeadersOf(value: unknown, found: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return found;
  for (const [key, child] of Object.entries(value)) {
    if (key === TRACE_HEADER) found.push(child as Payload);
    else traceHeadersOf(child, found);
  }
  return found;
}

describe('payload encryption: history, codec endpoint', () => {
  let stack: TestStack;
  let client: Client;
  let worker: RunningWorker;
  let api: TestApi;
  const converter = new DefaultPayloadConverter();

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    api = await startApi(stack, client);
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
  });

  it("keeps API key secrets out of the reseller workflow's history, whose payloads are all ciphertext", async () => {
    const reseller = await newReseller(api.accounts, 'Plaintext Hunters MSP');
    const organization = await api.accounts.createOrganization(reseller.resellerId, { name: 'Very Recognisable Org' });
    const orgUser = await api.accounts.createApiKey(reseller.resellerId, organization.id);
    const rotated = await api.accounts.rotateApiKey(reseller.resellerId, reseller.keyId);
    assert.equal((await fetch(`${api.baseUrl}/organizations`, { headers: bearer(rotated.apiKey) })).status, 200);

    const history = await client.workflow.getHandle(resellerAccountWorkflowId(reseller.resellerId)).fetchHistory();
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    for (const apiKey of [reseller.apiKey, orgUser.apiKey, rotated.apiKey]) {
      const { secret } = parseApiKey(apiKey)!;
      assert.ok(!raw.includes(secret), 'an API key secret is in the history');
      assert.ok(!raw.includes(Buffer.from(secret).toString('base64')), 'an API key secret is in the history (base64)');
      assert.ok(!raw.includes(apiKey));
    }
    assert.ok(!raw.includes('Very Recognisable Org'), 'payloads are not encrypted');

    const payloads = payloadsOf(history);
    assert.ok(payloads.length >= 8, `found ${payloads.length} payloads`);
    // What travels unencrypted in headers is a trace context and nothing else.
    for (const header of traceHeadersOf(history)) {
      const context = converter.fromPayload(header) as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(context).filter((k) => k !== 'traceparent' && k !== 'tracestate'),
        [],
        JSON.stringify(context),
      );
      // Empty while tracing is off (no tracer provider): the interceptors still set the header.
      if (context.traceparent !== undefined) {
        assert.match(String(context.traceparent), /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
      }
    }
    for (const payload of payloads) {
      assert.equal(Buffer.from(payload.metadata!.encoding!).toString(), 'binary/encrypted');
    }
    // Patch markers (the tracing interceptors record one in every run) hold a patch id and nothing else.
    const patches = patchMarkersOf(history);
    assert.ok(patches.length > 0, 'a patch marker');
    for (const patch of patches)
      assert.deepEqual(Object.keys(converter.fromPayload(patch) as object).sort(), ['deprecated', 'id']);
  });

  it('carries its state across continue-as-new, still findable by ResellerId', async () => {
    const resellerId = `rsl-can${Date.now().toString(16)}`;
    const workflowId = resellerAccountWorkflowId(resellerId);
    const first = await client.workflow.start(resellerAccountWorkflow, {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId,
      args: [
        {
          state: {
            reseller: { id: resellerId, name: 'Short Runs', createdAt: new Date().toISOString() },
            organizations: [],
            apiKeys: [],
          },
          updatesPerRun: 2,
        },
      ],
    });
    const { apiKey } = await api.accounts.createApiKey(resellerId);
    for (const name of ['One', 'Two', 'Three']) await api.accounts.createOrganization(resellerId, { name });
    const latest = await waitFor('a new run', async () => {
      const d = await client.workflow.getHandle(workflowId).describe();
      return d.runId !== first.firstExecutionRunId ? d : undefined;
    });
    assert.equal(latest.status.name, 'RUNNING');
    const organizations = await client.workflow.getHandle(workflowId).query(organizationsQuery);
    assert.deepEqual(
      organizations.map((o) => o.name),
      ['One', 'Two', 'Three'],
    );
    assert.equal((await fetch(`${api.baseUrl}/organizations`, { headers: bearer(apiKey) })).status, 200);
    await waitFor('the running account in the visibility store', async () => {
      const { count } = await client.workflow.count(
        `ResellerId = '${resellerId}' AND JobKind = 'reseller-account' AND ExecutionStatus = 'Running'`,
      );
      return count === 1 ? true : undefined;
    });
  });

  describe('codec endpoint', () => {
    const codecUrl = () => `${api.baseUrl}/codec`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${codecUrl()}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const sample = () => payloadsToJson([converter.toPayload({ organization: 'Visible Only Decoded' })]);

    it('refuses requests without the operator codec token, including reseller API keys', async () => {
      const { apiKey } = await newReseller(api.accounts, 'Curious MSP');
      for (const headers of [
        {} as Record<string, string>,
        bearer(apiKey),
        bearer('wrong-token'),
        { cookie: 'entra_backup_codec=1.forged' },
      ]) {
        const res = await post('/decode', sample(), headers);
        assert.equal(res.status, 401);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
    });

    it('encodes and decodes for the operator, matching what clients and workers write', async () => {
      const auth = bearer(developmentCodecToken);
      const encoded = (await (await post('/encode', sample(), auth)).json()) as any;
      assert.equal(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
      assert.ok(!Buffer.from(encoded.payloads[0].data, 'base64').toString('latin1').includes('Visible Only'));
      // What the endpoint encrypted, the product's own codec reads (same key), and the endpoint decodes back.
      const viaProduct = await createEncryptionCodec(stack.config.temporal.payloadEncryption).decode([
        {
          metadata: Object.fromEntries(
            Object.entries(encoded.payloads[0].metadata as Record<string, string>).map(([k, v]) => [
              k,
              Buffer.from(v, 'base64'),
            ]),
          ),
          data: Buffer.from(encoded.payloads[0].data, 'base64'),
        },
      ]);
      assert.deepEqual(converter.fromPayload(viaProduct[0]), { organization: 'Visible Only Decoded' });
      const decoded = (await (
        await post('/decode', encoded, { ...auth, 'x-namespace': stack.config.temporal.namespace })
      ).json()) as any;
      assert.deepEqual(decoded, sample());
    });

    it('keeps failure messages and stack traces encrypted, and decodes them for the Web UI', async function () {
      this.timeout(60_000);
      // A probe of a bucket that does not exist: its activity fails (and is retried), the failure kept by the server.
      const bucket = `no-such-bucket-${Date.now().toString(16)}`;
      const handle = await client.workflow.start(storageProbeWorkflow, {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `storage-probe-failure-${Date.now()}`,
        args: [{ bucket }],
      });
      try {
        const failure = await waitFor('the probe activity to fail once', async () => {
          const { raw } = await handle.describe();
          return raw.pendingActivities?.[0]?.lastFailure ?? undefined;
        });
        assert.equal(failure.message, 'Encoded failure');
        assert.equal(failure.stackTrace, '');
        const attributes = failure.encodedAttributes!;
        assert.equal(Buffer.from(attributes.metadata!.encoding!).toString(), 'binary/encrypted');
        assert.ok(!Buffer.from(attributes.data!).toString('latin1').includes(bucket), 'the message is in the clear');

        const decoded = (await (
          await post('/decode', payloadsToJson([attributes as Payload]), bearer(developmentCodecToken))
        ).json()) as any;
        const shown = JSON.parse(Buffer.from(decoded.payloads[0].data, 'base64').toString('utf8')) as {
          message: string;
          stack_trace: string;
        };
        const [plain] = await createEncryptionCodec(stack.config.temporal.payloadEncryption).decode([
          attributes as Payload,
        ]);
        assert.deepEqual(shown, converter.fromPayload(plain), 'the endpoint shows what the product reads');
        assert.ok(shown.message.length > 0 && shown.message !== 'Encoded failure', shown.message);
      } finally {
        await handle.terminate('test over');
      }
    });

    it('refuses payloads encrypted with another key, and another namespace', async () => {
      const auth = bearer(developmentCodecToken);
      const encoded = (await (await post('/encode', sample(), auth)).json()) as any;
      encoded.payloads[0].metadata['encryption-key-id'] = Buffer.from('retired-key').toString('base64');
      const res = await post('/decode', encoded, auth);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as any).detail, /retired-key/);
      assert.equal((await post('/decode', sample(), { ...auth, 'x-namespace': 'someone-else' })).status, 400);
    });

    it('lets the Web UI in with an HttpOnly session cookie from /codec/login and answers its CORS preflight', async () => {
      const uiOrigin = new URL(stack.config.temporal.webUiUrl).origin;
      const preflight = await fetch(`${codecUrl()}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin: uiOrigin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), uiOrigin);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
      const stranger = await fetch(`${codecUrl()}/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(stranger.headers.get('access-control-allow-origin'), null);

      const form = (token: string) =>
        fetch(`${codecUrl()}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }).toString(),
        });
      assert.equal((await form('guess')).status, 401);
      const login = await form(developmentCodecToken);
      assert.equal(login.status, 200);
      const setCookie = login.headers.get('set-cookie') ?? '';
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      assert.ok(!setCookie.includes(developmentCodecToken));
      const cookie = setCookie.split(';')[0];
      const encoded = (await (await post('/encode', sample(), bearer(developmentCodecToken))).json()) as any;
      const res = await post('/decode', encoded, { cookie, origin: uiOrigin });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), uiOrigin);
      assert.deepEqual(await res.json(), sample());
    });
  });
});
