import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { AuditEntry } from '../../accounts/types';
import { unattributedFolder } from '../../api/audit/storage-audit-log';
import { TemporalAccountsDirectory } from '../../accounts/temporal-accounts-directory';
import { parseApiKey } from '../../accounts/api-key';
import { connectClient } from '../../temporal/connection';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { waitFor } from '../helpers/http';
import { bearer, newReseller, startApi, type TestApi } from '../helpers/accounts';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('access: API keys, organizations, audit trail and OpenAPI validation', () => {
  let stack: TestStack;
  let client: Client;
  let worker: RunningWorker;
  let api: TestApi;
  let reseller: Awaited<ReturnType<typeof newReseller>>;
  let other: Awaited<ReturnType<typeof newReseller>>;
  let organizationId: string;
  let orgUserKey: string;

  const call = (
    path: string,
    init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${api.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.key ? bearer(init.key) : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    worker = await startWorker(stack.config);
    api = await startApi(stack, client);
    reseller = await newReseller(api.accounts, 'Northwind MSP');
    other = await newReseller(api.accounts, 'Fabrikam MSP');
    organizationId = (await api.accounts.createOrganization(reseller.resellerId, { name: 'Contoso' })).id;
    orgUserKey = (await api.accounts.createApiKey(reseller.resellerId, organizationId)).apiKey;
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await client?.connection.close();
  });

  describe('authentication', () => {
    it('answers 401 problem+json without a key, with an unknown key and with a malformed one', async () => {
      const forged = `ebk_${reseller.resellerId}_${reseller.keyId}_${'A'.repeat(43)}`;
      const unknownReseller = `ebk_rsl-000000000000_key-000000000000_${'A'.repeat(43)}`;
      for (const key of [undefined, forged, unknownReseller, 'not-a-key']) {
        const res = await call('/organizations', { key });
        assert.equal(res.status, 401, `key ${key}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    });

    it('accepts the key as Bearer or X-Api-Key, and keeps /healthz public', async () => {
      assert.equal((await call('/organizations', { key: reseller.apiKey })).status, 200);
      assert.equal((await call('/organizations', { headers: { 'x-api-key': reseller.apiKey } })).status, 200);
      assert.equal((await call('/healthz')).status, 200);
    });
  });

  describe('organizations', () => {
    it('lets a reseller create organizations and list only its own', async () => {
      const created = await call('/organizations', { method: 'POST', key: reseller.apiKey, body: { name: 'Litware' } });
      assert.equal(created.status, 201);
      const organization = (await created.json()) as any;
      assert.equal(organization.resellerId, reseller.resellerId);
      assert.equal(created.headers.get('location'), `/organizations/${organization.id}`);

      const list = (await (await call('/organizations', { key: reseller.apiKey })).json()) as any;
      assert.deepEqual(list.organizations.map((o: any) => o.name).sort(), ['Contoso', 'Litware']);
      const otherList = (await (await call('/organizations', { key: other.apiKey })).json()) as any;
      assert.deepEqual(otherList.organizations, []);
    });

    it("answers 404 for another reseller's organization, exactly as for an unknown one", async () => {
      const theirs = await call(`/organizations/${organizationId}`, { key: other.apiKey });
      const unknown = await call('/organizations/org-000000000000', { key: other.apiKey });
      assert.equal(theirs.status, 404);
      assert.equal(unknown.status, 404);
      assert.equal(((await theirs.json()) as any).title, ((await unknown.json()) as any).title);
      assert.equal((await call(`/organizations/${organizationId}`, { key: reseller.apiKey })).status, 200);
    });

    it('refuses organization users with 403 and says why; they see their own organization only', async () => {
      const res = await call('/organizations', { method: 'POST', key: orgUserKey, body: { name: 'Sneaky' } });
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as any).detail, 'organizations cannot manage Entra backups; only resellers can');
      assert.equal((await call('/audit', { key: orgUserKey })).status, 403);

      const list = (await (await call('/organizations', { key: orgUserKey })).json()) as any;
      assert.deepEqual(
        list.organizations.map((o: any) => o.id),
        [organizationId],
      );
      const sibling = (await api.accounts.listOrganizations(reseller.resellerId)).find((o) => o.id !== organizationId)!;
      assert.equal((await call(`/organizations/${sibling.id}`, { key: orgUserKey })).status, 404);
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document describing every route', async () => {
      const res = await call('/openapi.json', { key: reseller.apiKey });
      assert.equal(res.status, 200);
      const doc = (await res.json()) as any;
      assert.equal(doc.openapi, '3.1.0');
      for (const path of [
        '/healthz',
        '/diagnostics/storage-probes',
        '/organizations',
        '/organizations/{organizationId}',
        '/audit',
        '/codec/decode',
      ]) {
        assert.ok(doc.paths[path], `${path} is described`);
      }
      assert.deepEqual(doc.paths['/healthz'].get.security, []);
    });

    it('refuses an invalid body with 400 naming each field, and creates nothing', async () => {
      const before = await api.accounts.listOrganizations(reseller.resellerId);
      const res = await call('/organizations', {
        method: 'POST',
        key: reseller.apiKey,
        body: { name: 42, colour: 'red' },
      });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = (await res.json()) as any;
      const fields = problem.errors.map((e: any) => e.field).sort();
      assert.deepEqual(fields, ['body.colour', 'body.name']);

      const missing = (await (
        await call('/organizations', { method: 'POST', key: reseller.apiKey, body: {} })
      ).json()) as any;
      assert.deepEqual(missing.errors, [{ field: 'body.name', message: 'is required' }]);
      const noBody = (await (await call('/organizations', { method: 'POST', key: reseller.apiKey })).json()) as any;
      assert.equal(noBody.errors[0].field, 'body');

      const badLimit = (await (await call('/audit?limit=zero', { key: reseller.apiKey })).json()) as any;
      assert.equal(badLimit.errors[0].field, 'query.limit');
      const badId = await call('/organizations/NOT_AN_ID', { key: reseller.apiKey });
      assert.equal(((await badId.json()) as any).errors[0].field, 'path.organizationId');

      const fresh = new TemporalAccountsDirectory(client, { taskQueue: stack.config.temporal.taskQueue });
      assert.deepEqual(await fresh.listOrganizations(reseller.resellerId), before);
    });
  });

  describe('operator command', () => {
    const accountsCli = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', path.resolve(__dirname, '../../scripts/accounts.ts'), ...args],
        {
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: stack.config.temporal.address,
            TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
          },
        },
      );
      return stdout;
    };

    it('creates a reseller, an organization and keys that the API accepts, and revokes them', async () => {
      const resellerId = /reseller (rsl-[0-9a-f]+) \(Contoso MSP\) created/.exec(
        await accountsCli('create-reseller', '--name', 'Contoso MSP'),
      )![1];
      const apiKey = /^(ebk_\S+)$/m.exec(await accountsCli('create-key', '--reseller', resellerId))![1];
      const organizationId = /organization (org-[0-9a-f]+)/.exec(
        await accountsCli('create-organization', '--reseller', resellerId, '--name', 'Fabrikam'),
      )![1];
      const list = (await (await call('/organizations', { key: apiKey })).json()) as any;
      assert.deepEqual(
        list.organizations.map((o: any) => o.id),
        [organizationId],
      );
      const userOutput = await accountsCli('create-key', '--reseller', resellerId, '--organization', organizationId);
      const userKey = /^(ebk_\S+)$/m.exec(userOutput)![1];
      assert.equal((await call('/organizations', { method: 'POST', key: userKey, body: { name: 'x' } })).status, 403);

      const keyId = parseApiKey(apiKey)!.keyId;
      assert.match(await accountsCli('revoke-key', '--reseller', resellerId, '--key', keyId), /revoked/);
      await waitFor(
        'the revoked key to be refused',
        async () => ((await call('/organizations', { key: apiKey })).status === 401 ? true : undefined),
        5000,
      );
      assert.doesNotMatch(await accountsCli('list-keys', '--reseller', resellerId), /ebk_|secretHash/);
    });
  });

  describe('key rotation and revocation', () => {
    it('takes effect on every API replica without a restart', async () => {
      const replica = await startApi(stack, client, { cacheTtlMs: 1000 });
      // The operator's command runs in its own process: its own directory, nothing shared but Temporal.
      const operator = new TemporalAccountsDirectory(client, { taskQueue: stack.config.temporal.taskQueue });
      try {
        const { apiKey: oldKey, key } = await operator.createApiKey(reseller.resellerId);
        assert.equal((await fetch(`${replica.baseUrl}/organizations`, { headers: bearer(oldKey) })).status, 200);

        const { apiKey: newKey } = await operator.rotateApiKey(reseller.resellerId, key.keyId);
        assert.equal((await fetch(`${replica.baseUrl}/organizations`, { headers: bearer(newKey) })).status, 200);
        await waitFor(
          'the old key to be refused',
          async () => {
            const res = await fetch(`${replica.baseUrl}/organizations`, { headers: bearer(oldKey) });
            return res.status === 401 ? true : undefined;
          },
          5000,
        );

        await operator.revokeApiKey(reseller.resellerId, (await operator.authenticate(newKey))!.keyId);
        await waitFor(
          'the revoked key to be refused',
          async () => {
            const res = await fetch(`${replica.baseUrl}/organizations`, { headers: bearer(newKey) });
            return res.status === 401 ? true : undefined;
          },
          5000,
        );
        const keys = await operator.listApiKeys(reseller.resellerId);
        assert.ok(keys.every((k) => !('secretHash' in k)));
      } finally {
        await replica.close();
      }
    });
  });

  describe('audit trail', () => {
    const entries = async (resellerId: string, predicate: (e: AuditEntry) => boolean) =>
      waitFor('audit entries', async () => {
        const list = (await api.deps.audit.list(resellerId)).filter(predicate);
        return list.length > 0 ? list : undefined;
      });

    it('records state-changing calls with actor, action, target and outcome; GET /audit lists them newest first', async () => {
      const created = (await (
        await call('/organizations', { method: 'POST', key: reseller.apiKey, body: { name: 'Audited Ltd' } })
      ).json()) as any;
      await call('/organizations', { method: 'POST', key: reseller.apiKey, body: { name: '' } });
      await call('/organizations', { method: 'POST', key: orgUserKey, body: { name: 'Nope' } });

      const succeeded = await entries(reseller.resellerId, (e) => e.target === `organization:${created.id}`);
      assert.equal(succeeded[0].outcome, 'succeeded');
      assert.equal(succeeded[0].action, 'organization.create');
      assert.equal(succeeded[0].actor, `reseller:${reseller.resellerId}/key:${reseller.keyId}`);
      const invalid = await entries(reseller.resellerId, (e) => e.detail === '400');
      assert.equal(invalid[0].outcome, 'refused');
      const forbidden = await entries(reseller.resellerId, (e) => e.actor.startsWith('organization-user:'));
      assert.equal(forbidden[0].outcome, 'refused');
      assert.equal(forbidden[0].detail, '403');
      assert.equal(forbidden[0].action, 'organization.create');

      const res = await call('/audit?limit=50', { key: reseller.apiKey });
      assert.equal(res.status, 200);
      const listed = ((await res.json()) as any).entries as AuditEntry[];
      assert.ok(listed.length >= 3);
      const times = listed.map((e) => e.at);
      assert.deepEqual(times, [...times].sort().reverse());
      assert.ok(listed.every((e) => e.resellerId === reseller.resellerId));
      const others = ((await (await call('/audit', { key: other.apiKey })).json()) as any).entries as AuditEntry[];
      assert.ok(others.every((e) => e.resellerId === other.resellerId));
    });

    it('records a call that failed on our side as failed', async () => {
      const broken = await startApi(stack, client, {
        accounts: Object.assign(Object.create(api.accounts) as TemporalAccountsDirectory, {
          createOrganization: async () => {
            throw new Error('Temporal is down');
          },
        }),
      });
      const original = console.error;
      console.error = () => {};
      try {
        const res = await fetch(`${broken.baseUrl}/organizations`, {
          method: 'POST',
          headers: { ...bearer(reseller.apiKey), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Doomed' }),
        });
        assert.equal(res.status, 500);
        const failed = await entries(reseller.resellerId, (e) => e.outcome === 'failed');
        assert.equal(failed[0].action, 'organization.create');
      } finally {
        console.error = original;
        await broken.close();
      }
    });

    it('keeps unauthenticated attempts, attributed to no reseller', async () => {
      await call('/organizations', { method: 'POST', body: { name: 'x' } });
      const anonymous = await waitFor('the anonymous entry', async () => {
        // Other test files' anonymous calls (portal sign-ins, consent callbacks) share this folder: find this one.
        const list = (await api.deps.audit.list(unattributedFolder)).filter(
          (e) => e.actor === 'anonymous' && e.action === 'organization.create',
        );
        return list.length ? list : undefined;
      });
      assert.equal(anonymous[0].outcome, 'refused');
      assert.equal(anonymous[0].detail, '401');
    });
  });
});
