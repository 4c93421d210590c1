/* eslint-disable @typescript-eslint/no-explicit-any -- the API's JSON bodies, read field by field */
import { repositoryLocation } from '../../activities/backup/repositories';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client as TemporalClient } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { createStorageClient } from '../../storage/gcs-client';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { Repository } from '../../storage/repository';
import { TokenProvider } from '../../activities/graph/token-provider';
import { createGraphClient } from '../../activities/graph/graph-client';
import { tenantBackupWorkflow } from '../../workflows';
import { locatedStorage, type BackupTarget } from '../../tenants/types';
import type { TypeDiff } from '../../diff';
import { sharedTestStack, type TestStack } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/running-worker';
import { bearer, newReseller, startApi, type TestApi } from '../helpers/accounts';
import { BACKUP_APP, RESTORE_APP, startTenantFixture, type TenantFixture } from '../helpers/tenant-fixture';
import { startTargetTenantWorkflow } from '../../scripts/tenant-workflow';

/**
 * Browse and diff against the real stack: a simulated tenant is backed up, changed by script (one change of every
 * kind), backed up again; the API must show exactly those changes, both ways, and name damaged data.
 */
describe('browse and diff (real Temporal, storage, simulator and API)', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let client: TemporalClient;
  let fx: TenantFixture;
  let worker: RunningWorker;
  let api: TestApi;
  let auth: Record<string, string>;
  let otherAuth: Record<string, string>;
  let target: BackupTarget;
  let a: string;
  let b: string;
  const ids: Record<string, string> = {};

  const get = (path: string, headers = auth) => fetch(`${api.baseUrl}${path}`, { headers });
  const getJson = async <T = Record<string, unknown>>(path: string, headers = auth): Promise<T> => {
    const res = await get(path, headers);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const base = () => `/tenants/${target.tenantId}`;

  before(async () => {
    stack = await sharedTestStack();
    client = await connectClient(stack.config.temporal);
    // Every backup a full read: this file tests what browse and diff make of two snapshots, not delta capture.
    fx = await startTenantFixture(stack, client, { BACKUP_FULL_READ_EVERY: '1', BACKUP_CHECKPOINT_SECONDS: '0' });
    worker = await startWorker(fx.config);
    api = await startApi(stack, client, { config: fx.config, accounts: fx.accounts });
    const reseller = await newReseller(fx.accounts, 'Browse MSP');
    auth = bearer(reseller.apiKey);
    otherAuth = bearer((await newReseller(fx.accounts, 'Other MSP')).apiKey);

    const c = fx.sim.control;
    const ms = c.createTenant({ users: 12, consentTo: [BACKUP_APP.clientId, RESTORE_APP.clientId] });
    target = {
      tenantId: randomUUID(),
      resellerId: reseller.resellerId,
      organizationId: 'org-browse',
      directory: ms.id,
      storage: locatedStorage(stack.config.storage.locations[0]),
    };
    await startTargetTenantWorkflow(client, fx.config.temporal.taskQueue, target, {
      plan: 'archiver',
      consentTimeoutMs: 60_000,
    });

    // Objects of our own, with no memberships but the ones scripted here, so nothing else changes around them.
    const user = (name: string, extra: Record<string, unknown> = {}) =>
      c.createObject(ms.id, 'user', {
        displayName: name,
        userPrincipalName: `${name.toLowerCase()}@browse.example`,
        mail: `${name.toLowerCase()}@browse.example`,
        mailNickname: name.toLowerCase(),
        accountEnabled: true,
        userType: 'Member',
        ...extra,
      }).id;
    ids.edited = user('Edith', {
      jobTitle: 'Engineer',
      department: 'Sales',
      onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: 'b' },
    });
    ids.reordered = user('Rory', {
      proxyAddresses: ['SMTP:rory@browse.example', 'smtp:r1@browse.example', 'smtp:r2@browse.example'],
    });
    ids.softDeleted = user('Sofia');
    ids.hardDeleted = user('Hardy');
    ids.restored = user('Resa');
    ids.memberRemoved = user('Mona');
    ids.memberAdded = user('Max');
    ids.ownerBefore = user('Olga');
    ids.ownerAfter = user('Oscar');
    ids.group = c.createObject(ms.id, 'group', {
      displayName: 'Browse Team',
      mailEnabled: false,
      mailNickname: 'browse-team',
      securityEnabled: true,
      groupTypes: [],
    }).id;
    c.addMember(ms.id, ids.group, ids.memberRemoved);
    c.addMember(ms.id, ids.group, ids.edited);
    const graph = createGraphClient(
      fx.config.entra,
      async () => (await new TokenProvider(fx.config.entra).acquire('restore', ms.id)).accessToken,
    );
    const ref = (id: string) => ({ '@odata.id': `${fx.config.entra.graphBaseUrl}/directoryObjects/${id}` });
    await graph.api(`/groups/${ids.group}/owners/$ref`).post(ref(ids.ownerBefore));
    c.deleteObject(ms.id, ids.restored);

    a = await backup();

    c.updateObject(ms.id, ids.edited, {
      jobTitle: 'Chief Restorer',
      department: 'Recovery',
      onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: 'c' },
    });
    c.updateObject(ms.id, ids.reordered, {
      proxyAddresses: ['smtp:r2@browse.example', 'SMTP:rory@browse.example', 'smtp:r1@browse.example'],
    });
    c.addMember(ms.id, ids.group, ids.memberAdded);
    c.removeMember(ms.id, ids.group, ids.memberRemoved);
    await graph.api(`/groups/${ids.group}/owners/$ref`).post(ref(ids.ownerAfter));
    await graph.api(`/groups/${ids.group}/owners/${ids.ownerBefore}/$ref`).delete();
    ids.created = user('Nova');
    c.deleteObject(ms.id, ids.softDeleted);
    c.deleteObject(ms.id, ids.hardDeleted, { hard: true });
    c.restoreObject(ms.id, ids.restored);

    b = await backup();
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await fx?.sim.close();
    await client?.connection.close();
  });

  async function backup(): Promise<string> {
    const result = await client.workflow.execute(tenantBackupWorkflow, {
      taskQueue: fx.config.temporal.taskQueue,
      workflowId: `backup:${target.tenantId}:${randomUUID()}`,
      args: [target, { retentionGraceMs: 0 }],
    });
    assert.equal(result.status, 'completed');
    return result.snapshotId!;
  }

  const repository = () =>
    Repository.open(
      new GcsObjectStore(
        createStorageClient(stack.config.storage).bucket(target.storage.bucket),
        repositoryLocation(target).prefix,
      ),
      fx.config.storage.masterKey,
    );

  it('lists snapshots newest first with counts, coverage and chain state, paged', async () => {
    const page = await getJson<{ total: number; chain: { ok: boolean }; snapshots: Record<string, any>[] }>(
      `${base()}/snapshots`,
    );
    assert.equal(page.total, 2);
    assert.equal(page.chain.ok, true);
    assert.deepEqual(
      page.snapshots.map((s) => s.id),
      [b, a],
    );
    assert.equal(page.snapshots[0].complete, true);
    assert.equal(page.snapshots[0].chainVerified, true);
    assert.equal(page.snapshots[0].coverage.users.status, 'captured');
    const users = (await repository()).listEntries(b, 'users');
    assert.equal(page.snapshots[0].counts.users.count, (await users).length);
    assert.equal(page.snapshots[0].counts.users.softDeleted, 1);

    const second = await getJson<{ snapshots: { id: string }[] }>(`${base()}/snapshots?offset=1&limit=1`);
    assert.deepEqual(
      second.snapshots.map((s) => s.id),
      [a],
    );
    for (const bad of ['offset=2', 'limit=0', 'limit=201', 'offset=-1', 'limit=abc']) {
      const res = await get(`${base()}/snapshots?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
  });

  it('lists a snapshot’s types with counts and pages its objects, searchable by prefix', async () => {
    const types = await getJson<{ types: { type: string; status: string; count: number }[] }>(
      `${base()}/snapshots/${b}/types`,
    );
    const users = types.types.find((t) => t.type === 'users')!;
    assert.equal(users.status, 'captured');

    const all: { id: string; state: string }[] = [];
    for (let offset = 0; offset < users.count; offset += 7) {
      const page = await getJson<{ total: number; objects: { id: string; state: string }[] }>(
        `${base()}/snapshots/${b}/types/users/objects?offset=${offset}&limit=7`,
      );
      assert.equal(page.total, users.count);
      all.push(...page.objects);
    }
    assert.equal(all.length, users.count);
    assert.deepEqual(
      all.map((o) => o.id),
      [...all.map((o) => o.id)].sort(),
      'ordered by id',
    );
    assert.equal(all.find((o) => o.id === ids.softDeleted)?.state, 'in-recycle-bin');
    assert.equal(all.find((o) => o.id === ids.created)?.state, 'present');
    assert.equal(
      all.find((o) => o.id === ids.hardDeleted),
      undefined,
    );

    const search = async (q: string) =>
      (
        await getJson<{ objects: { id: string }[] }>(
          `${base()}/snapshots/${b}/types/users/objects?search=${encodeURIComponent(q)}`,
        )
      ).objects.map((o) => o.id);
    assert.deepEqual(await search('EDITH@BROWSE'), [ids.edited], 'UPN prefix, any case');
    assert.deepEqual(await search('rory'), [ids.reordered], 'display name prefix');
    assert.deepEqual(await search(ids.created.slice(0, 13).toUpperCase()), [ids.created], 'id prefix');
    assert.deepEqual(await search('nobody-by-this-name'), []);
    const apps = await getJson<{ objects: { id: string; properties: { appId: string } }[] }>(
      `${base()}/snapshots/${b}/types/applications/objects?limit=1`,
    );
    const appId = apps.objects[0].properties.appId;
    assert.ok(
      (
        await getJson<{ objects: { id: string }[] }>(
          `${base()}/snapshots/${b}/types/applications/objects?search=${appId.slice(0, 8).toUpperCase()}`,
        )
      ).objects.some((o) => o.id === apps.objects[0].id),
      'appId prefix',
    );
  });

  it('shows one object as captured, its named relationships and its version history', async () => {
    const edited = await getJson<Record<string, any>>(`${base()}/snapshots/${b}/types/users/objects/${ids.edited}`);
    assert.equal(edited.object.jobTitle, 'Chief Restorer');
    assert.deepEqual(
      edited.history.map((h: any) => [h.snapshotId, h.event, h.contentChanged]),
      [
        [b, 'changed', true],
        [a, 'captured', false],
      ],
    );
    const before = await getJson<Record<string, any>>(`${base()}/snapshots/${a}/types/users/objects/${ids.edited}`);
    assert.equal(before.object.jobTitle, 'Engineer');

    const group = await getJson<Record<string, any>>(`${base()}/snapshots/${b}/types/groups/objects/${ids.group}`);
    const named = (rel: string) => group.relationships[rel].items.map((i: any) => [i.id, i.type, i.displayName]).sort();
    assert.deepEqual(
      named('members'),
      [
        [ids.edited, 'users', 'Edith'],
        [ids.memberAdded, 'users', 'Max'],
      ].sort(),
    );
    assert.deepEqual(named('owners'), [[ids.ownerAfter, 'users', 'Oscar']]);
    assert.deepEqual(
      group.history.map((h: any) => [h.event, h.contentChanged, h.relationshipsChanged]),
      [
        ['changed', false, ['members', 'owners']],
        ['captured', false, []],
      ],
    );

    const binned = await getJson<Record<string, any>>(
      `${base()}/snapshots/${b}/types/users/objects/${ids.softDeleted}`,
    );
    assert.equal(binned.state, 'in-recycle-bin');
    assert.equal(binned.history[0].event, 'soft-deleted');
    const reordered = async (s: string) =>
      (await getJson<Record<string, any>>(`${base()}/snapshots/${s}/types/users/objects/${ids.reordered}`)).contentHash;
    assert.notEqual(await reordered(a), await reordered(b), 'the reordering reached the stored content');
  });

  it('diffs the two snapshots: exactly the scripted changes, and B → A is the inverse', async () => {
    const ab = await getJson<{ types: TypeDiff[]; summary: Record<string, number> }>(
      `${base()}/diff?from=${a}&to=${b}`,
    );
    const users = ab.types.find((t) => t.type === 'users')!;
    assert.deepEqual(users.added, [{ id: ids.created, displayName: 'Nova' }]);
    assert.deepEqual(
      users.removed,
      [
        { id: ids.softDeleted, displayName: 'Sofia', deletion: 'soft' },
        { id: ids.hardDeleted, displayName: 'Hardy', deletion: 'hard' },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    );
    assert.deepEqual(users.restored, [{ id: ids.restored, displayName: 'Resa' }]);
    assert.deepEqual(users.changed, [
      {
        id: ids.edited,
        displayName: 'Edith',
        attributes: [
          { path: 'department', kind: 'value', old: 'Sales', new: 'Recovery' },
          { path: 'jobTitle', kind: 'value', old: 'Engineer', new: 'Chief Restorer' },
          { path: 'onPremisesExtensionAttributes.extensionAttribute2', kind: 'value', old: 'b', new: 'c' },
        ],
        relationships: [],
      },
    ]);
    const groups = ab.types.find((t) => t.type === 'groups')!;
    assert.deepEqual([groups.added, groups.removed, groups.restored], [[], [], []]);
    assert.deepEqual(groups.changed, [
      {
        id: ids.group,
        displayName: 'Browse Team',
        attributes: [],
        relationships: [
          {
            relationship: 'members',
            added: [{ id: ids.memberAdded, type: 'users', displayName: 'Max' }],
            removed: [{ id: ids.memberRemoved, type: 'users', displayName: 'Mona' }],
            changed: [],
          },
          {
            relationship: 'owners',
            added: [{ id: ids.ownerAfter, type: 'users', displayName: 'Oscar' }],
            removed: [{ id: ids.ownerBefore, type: 'users', displayName: 'Olga' }],
            changed: [],
          },
        ],
      },
    ]);
    for (const t of ab.types.filter((t) => t.type !== 'users' && t.type !== 'groups')) {
      assert.deepEqual(
        [t.comparable, t.added, t.removed, t.restored, t.changed],
        [true, [], [], [], []],
        `${t.type} unchanged`,
      );
    }

    const ba = await getJson<{ types: TypeDiff[] }>(`${base()}/diff?from=${b}&to=${a}`);
    const back = ba.types.find((t) => t.type === 'users')!;
    assert.deepEqual(back.added, [{ id: ids.hardDeleted, displayName: 'Hardy' }]);
    assert.deepEqual(
      back.removed,
      [
        { id: ids.created, displayName: 'Nova', deletion: 'hard' },
        { id: ids.restored, displayName: 'Resa', deletion: 'soft' },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    );
    assert.deepEqual(back.restored, [{ id: ids.softDeleted, displayName: 'Sofia' }]);
    assert.deepEqual(
      back.changed[0].attributes,
      users.changed[0].attributes.map((c: any) => ({ ...c, old: c.new, new: c.old })),
    );
    const backGroup = ba.types.find((t) => t.type === 'groups')!.changed[0];
    assert.deepEqual(
      backGroup.relationships,
      groups.changed[0].relationships.map((r) => ({ ...r, added: r.removed, removed: r.added })),
    );

    const filtered = await getJson<{ types: TypeDiff[] }>(
      `${base()}/diff?from=${a}&to=${b}&type=users&objectId=${ids.edited}`,
    );
    assert.deepEqual(
      filtered.types.map((t) => [t.type, t.changed.map((c) => c.id), t.added.length, t.removed.length]),
      [['users', [ids.edited], 0, 0]],
    );

    const text = await get(`${base()}/diff?from=${a}&to=${b}`, { ...auth, accept: 'text/plain' });
    assert.equal(text.status, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    const report = await text.text();
    assert.match(report, /1 added, 2 removed \(1 to the recycle bin, 1 for good\), 1 restored, 2 changed/);
    assert.match(report, /jobTitle: "Engineer" -> "Chief Restorer"/);
    assert.match(report, /members: \+ Max \(users /);
    assert.match(report, /owners: - Olga \(users /);
    assert.equal(await (await get(`${base()}/diff?from=${a}&to=${b}&format=text`)).text(), report);
  });

  it('answers 404 for unknown ids and another reseller’s tenant, 400 for bad ids', async () => {
    const unknownSnapshot = 'f'.repeat(64);
    for (const [path, headers, status] of [
      [`${base()}/snapshots`, otherAuth, 404],
      [`${base()}/snapshots/${b}/types/users/objects/${ids.edited}`, otherAuth, 404],
      [`${base()}/diff?from=${a}&to=${b}`, otherAuth, 404],
      [`${base()}/snapshots/${unknownSnapshot}/types`, auth, 404],
      [`${base()}/snapshots/${b}/types/gadgets/objects`, auth, 404],
      [`${base()}/snapshots/${b}/types/users/objects/${randomUUID()}`, auth, 404],
      [`${base()}/diff?from=${a}&to=${unknownSnapshot}`, auth, 404],
      [`${base()}/diff?from=${a}&to=${b}&type=gadgets`, auth, 404],
      [`/tenants/${randomUUID()}/snapshots`, auth, 404],
      [`${base()}/snapshots/not-a-snapshot/types`, auth, 400],
      [`${base()}/diff?from=${a}`, auth, 400],
    ] as const) {
      const res = await get(path, headers);
      assert.equal(res.status, status, `${path}: ${await res.text()}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
  });

  it('reports one changed byte in a pack, naming the object and the pack, and returns nothing of it', async () => {
    const repo = await repository();
    const entry = (await repo.listEntries(b, 'users')).find((e) => e.id === ids.edited)!;
    const where = repo.locate(entry.contentHash)!;
    const file = createStorageClient(stack.config.storage)
      .bucket(target.storage.bucket)
      .file(`${repositoryLocation(target).prefix}packs/${where.packId}`);
    const [bytes] = await file.download();
    bytes[where.offset + Math.floor(where.length / 2)] ^= 0x01;
    await file.save(bytes);

    const res = await get(`${base()}/snapshots/${b}/types/users/objects/${ids.edited}`);
    assert.equal(res.status, 500);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = (await res.json()) as Record<string, string>;
    assert.equal(problem.type, 'urn:entra-backup:problem:integrity');
    assert.equal(problem.object, `users object ${ids.edited}`);
    assert.equal(problem.pack, where.packId);
    assert.match(problem.detail, new RegExp(where.packId));
    assert.equal(JSON.stringify(problem).includes('Chief Restorer'), false, 'no byte of the object is returned');

    // The diff decodes the edited user (its content changed): it fails the same way, naming it among its segment.
    const diff = await get(`${base()}/diff?from=${a}&to=${b}&type=users`);
    assert.equal(diff.status, 500);
    const diffProblem = (await diff.json()) as Record<string, string>;
    assert.match(diffProblem.object, new RegExp(`users object ${ids.edited}`));
    assert.match(diffProblem.pack, new RegExp(where.packId));
    // A page whose objects live elsewhere still reads.
    assert.equal((await get(`${base()}/snapshots/${b}/types/groups/objects`)).status, 200);
  });

  it('answers 404 for a snapshot that retention has forgotten', async () => {
    await (await repository()).forget([a]);
    assert.equal((await get(`${base()}/snapshots/${a}/types`)).status, 404);
    assert.equal((await get(`${base()}/diff?from=${a}&to=${b}`)).status, 404);
    const list = await getJson<{ total: number }>(`${base()}/snapshots`);
    assert.equal(list.total, 1);
  });
});
