import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Client } from '@temporalio/client';
import type { AuditEntry } from '../../accounts/types';
import { buildOpenApiDocument } from '../../api/openapi/document';
import { tenantWorkflowId } from '../../tenants/types';
import { tenantQuery } from '../../workflows';
import { connectClient } from '../../temporal/connection';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { bearer, newReseller, startApi, type TestApi } from '../helpers/accounts';
import { generateRequests, operationsOf, type Caller, type FuzzRequest } from '../helpers/api-fuzz-cases';

const SEED = Number(process.env.FUZZ_SEED ?? 15_09);
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 70);
const CONCURRENCY = 6;

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Raw HTTP, so that paths, methods, headers and bodies go out exactly as generated (fetch would normalize them). */
function send(baseUrl: string, request: FuzzRequest, agent: http.Agent): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        // Spaces are the one thing Node's client refuses to send raw.
        path: request.path.replace(/ /g, '%20'),
        agent,
        headers: { ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // A server that refuses a large body early may close the socket while we still write it; the answer counts.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(request.body);
  });
}

/** Entries a non-reading call leaves in the audit trail (see createApp: codec payload calls are not recorded). */
function isAudited(request: FuzzRequest, auditedGets: Set<string>): boolean {
  const path = request.path.split('?')[0];
  if (path === '/codec/decode' || path === '/codec/encode') return false;
  if (request.method === 'GET' || request.method === 'HEAD') {
    return request.operationId !== undefined && auditedGets.has(request.operationId);
  }
  return request.method !== 'OPTIONS';
}

describe('API fuzz: malformed requests to every route of the OpenAPI document', () => {
  let stack: TestStack;
  let client: Client;
  let worker: RunningWorker;
  let api: TestApi;
  let victim: Awaited<ReturnType<typeof newReseller>>;
  let mallory: Awaited<ReturnType<typeof newReseller>>;
  let victimOrganizationId: string;
  let victimTenantId: string;
  let orgUserKey: string;
  let taskQueue: string;

  before(async () => {
    const shared = await sharedTestStack();
    // A task queue of its own: workflows other test files left behind never run here and change nothing meanwhile.
    taskQueue = `api-fuzz-${randomBytes(4).toString('hex')}`;
    stack = { ...shared, config: { ...shared.config, temporal: { ...shared.config.temporal, taskQueue } } };
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    api = await startApi(stack, client);
    victim = await newReseller(api.accounts, 'Victim MSP');
    mallory = await newReseller(api.accounts, 'Mallory MSP');
    victimOrganizationId = (await api.accounts.createOrganization(victim.resellerId, { name: 'Contoso' })).id;
    await api.accounts.createOrganization(mallory.resellerId, { name: 'Mallory Org' });
    orgUserKey = (await api.accounts.createApiKey(victim.resellerId, victimOrganizationId)).apiKey;
    victimTenantId = await createVictimTenant();
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
  });

  /** The victim's tenant, made through the API as a reseller would (the one place to adapt if POST /tenants changes). */
  async function createVictimTenant(): Promise<string> {
    const res = await fetch(`${api.baseUrl}/tenants`, {
      method: 'POST',
      headers: { ...bearer(victim.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify({
        organizationId: victimOrganizationId,
        directory: 'victim-contoso.onmicrosoft.com',
        storageLocationId: 'default',
        plan: 'archiver',
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { tenantId: string }).tenantId;
  }

  /** Everything a request could create or change, apart from audit entries. */
  async function stateOf() {
    const bucket = stack.config.storage.defaultBucket;
    const [files] = await api.deps.storage.bucket(bucket).getFiles();
    const objects = files
      .filter((f) => !f.name.startsWith('audit/'))
      .map((f) => `${f.name}#${String(f.metadata.generation)}`)
      .sort();
    const auditObjects = files.filter((f) => f.name.startsWith('audit/')).map((f) => f.name);
    const organizations = {
      victim: (await api.accounts.listOrganizations(victim.resellerId)).map((o) => o.id).sort(),
      mallory: (await api.accounts.listOrganizations(mallory.resellerId)).map((o) => o.id).sort(),
    };
    const tenant = await client.workflow.getHandle(tenantWorkflowId(victimTenantId)).query(tenantQuery);
    const { count: workflows } = await client.workflow.count(`TaskQueue = '${taskQueue}'`);
    const { count: tenantWorkflows } = await client.workflow.count(
      `TaskQueue = '${taskQueue}' AND WorkflowType = 'tenantWorkflow'`,
    );
    return { objects, auditObjects, organizations, tenant, workflows, tenantWorkflows };
  }

  it('answers no 5xx, refuses with problem+json, audits refusals and changes nothing', async function () {
    this.timeout(180_000);
    const document = buildOpenApiDocument();
    const garbage: Caller[] = [
      { name: 'none', headers: {}, valid: false },
      { name: 'garbage bearer', headers: { authorization: 'Bearer not-a-key' }, valid: false },
      { name: 'basic', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, valid: false },
      { name: 'empty bearer', headers: { authorization: 'Bearer ' }, valid: false },
      {
        name: 'forged secret',
        headers: { authorization: `Bearer ebk_${victim.resellerId}_${victim.keyId}_${'A'.repeat(43)}` },
        valid: false,
      },
      { name: 'huge x-api-key', headers: { 'x-api-key': 'k'.repeat(6000) }, valid: false },
      { name: 'codec token as API key', headers: bearer(stack.config.api.codec.authToken ?? 'none'), valid: false },
    ];
    const foreignCallers: Caller[] = [
      { name: 'other reseller', headers: bearer(mallory.apiKey), valid: true, resellerId: mallory.resellerId },
      { name: 'other reseller (X-Api-Key)', headers: { 'x-api-key': mallory.apiKey }, valid: true },
    ];
    const orgUser: Caller = { name: 'organization user', headers: bearer(orgUserKey), valid: true };
    const owner: Caller = { name: 'owner', headers: bearer(victim.apiKey), valid: true, resellerId: victim.resellerId };
    const requests = generateRequests({
      document,
      callers: [...garbage, ...foreignCallers, orgUser, owner],
      foreignCallers,
      known: {
        foreign: {
          tenantId: [victimTenantId],
          organizationId: [victimOrganizationId],
        },
      },
      perOperation: PER_OPERATION,
      seed: SEED,
    });
    assert.ok(requests.length >= 1000, `only ${requests.length} requests generated`);
    const operations = operationsOf(document);
    for (const { operation } of operations) {
      assert.ok(
        requests.some((r) => r.operationId === operation.operationId),
        `${operation.operationId} is not fuzzed`,
      );
    }
    const auditedGets = new Set(
      operations.filter((o) => o.operation['x-audit-action'] && o.method === 'get').map((o) => o.operation.operationId),
    );

    const before = await stateOf();
    assert.ok(before.tenantWorkflows >= 1 && before.workflows > before.tenantWorkflows, 'the counts see this run');
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    let next = 0;
    const describe = (r: FuzzRequest, a: Answer) =>
      `${r.method} ${r.path.slice(0, 120)} (${r.why}) → ${a.status} ${a.contentType} ${a.body.slice(0, 200)}`;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const request = requests[next++];
          const answer = await send(api.baseUrl, request, agent).catch((err: Error): Answer => ({
            status: 0,
            contentType: '',
            body: `no answer: ${err.message}`,
          }));
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 0 || answer.status >= 500) failures.push(`5xx/no answer: ${describe(request, answer)}`);
          else if (answer.status >= 400) {
            // The codec sign-in form shows itself again to a browser (one asking for HTML only).
            const browserForm = request.operationId === 'codecLogin' && request.headers.accept === 'text/html';
            if (browserForm && answer.contentType.startsWith('text/html')) continue;
            const isProblem = answer.contentType.startsWith('application/problem+json');
            let status: unknown;
            try {
              status =
                request.method === 'HEAD' ? answer.status : (JSON.parse(answer.body) as { status?: unknown }).status;
            } catch {
              status = undefined;
            }
            if (!isProblem || status !== answer.status) failures.push(`not problem+json: ${describe(request, answer)}`);
          } else if (request.operationId && isAudited(request, auditedGets)) {
            failures.push(`accepted: ${describe(request, answer)}`);
          } else if (request.foreignIds) {
            failures.push(`another reseller's id answered: ${describe(request, answer)}`);
          }
          if (answer.body.includes('victim-contoso') && request.headers.authorization !== owner.headers.authorization) {
            failures.push(`leak of the victim's tenant: ${describe(request, answer)}`);
          }
        }
      }),
    );
    agent.destroy();
    const elapsedMs = Date.now() - started;

    const expectedAudit = requests.filter((r) => isAudited(r, auditedGets)).length;
    const after = await waitFor(
      'the audit entries of every refused call',
      async () => {
        const state = await stateOf();
        return state.auditObjects.length >= before.auditObjects.length + expectedAudit ? state : undefined;
      },
      30_000,
    ).catch(() => stateOf());

    console.log(
      `api fuzz: ${requests.length} requests to ${operations.length} operations (seed ${SEED}) in ${(elapsedMs / 1000).toFixed(1)} s, ` +
        `statuses ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}, ` +
        `${failures.length} failures, ${after.auditObjects.length - before.auditObjects.length}/${expectedAudit} audited`,
    );
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures`);

    assert.deepEqual(after.objects, before.objects, 'storage objects other than audit entries changed');
    assert.deepEqual(after.organizations, before.organizations, 'organizations changed');
    assert.deepEqual(after.tenant, before.tenant, "the victim's tenant changed");
    assert.equal(after.tenantWorkflows, before.tenantWorkflows, 'a tenant was created');
    assert.equal(after.workflows, before.workflows, 'a workflow was started');
    assert.equal(after.auditObjects.length - before.auditObjects.length, expectedAudit, 'audit entries');

    const previous = new Set(before.auditObjects);
    const bucket = api.deps.storage.bucket(stack.config.storage.defaultBucket);
    const added = after.auditObjects.filter((name) => !previous.has(name));
    const entries = await Promise.all(
      added.map(async (name) => JSON.parse((await bucket.file(name).download())[0].toString('utf8')) as AuditEntry),
    );
    const notRefused = entries.filter((e) => e.outcome !== 'refused');
    assert.deepEqual(notRefused.slice(0, 5), [], `${notRefused.length} audit entries are not refusals`);
    assert.ok(entries.some((e) => e.resellerId === mallory.resellerId && /tenant/.test(e.action)));
    assert.ok(entries.some((e) => e.resellerId === undefined && e.actor === 'anonymous'));
  });
});
