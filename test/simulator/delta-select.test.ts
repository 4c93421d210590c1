import assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, graphClient, graphFetch, startTenant, token } from './helpers';

type Item = Record<string, unknown> & { id: string };
interface DeltaPage {
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: Item[];
}

/** Follows nextLinks to the deltaLink, as a delta client does. */
async function round(client: Client, url: string): Promise<{ items: Item[]; deltaLink: string }> {
  const items: Item[] = [];
  let next = url;
  for (;;) {
    const page = (await client.api(next).get()) as DeltaPage;
    items.push(...page.value);
    if (!page['@odata.nextLink']) return { items, deltaLink: page['@odata.deltaLink'] as string };
    next = page['@odata.nextLink'];
  }
}

const byId = (items: Item[]) => new Map(items.map((i) => [i.id, i]));

describe('simulator: delta scoped by $select', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 60, app: 'backup' })));
  after(() => sim.close());

  it('users: a change to an unselected property is not reported; selected changes and removals are', async () => {
    const first = await round(client, '/users/delta?$select=displayName,jobTitle');
    assert.equal(first.items.length, 60);
    assert.deepEqual(Object.keys(first.items[0]).sort(), ['displayName', 'id', 'jobTitle'].sort());
    const [a, b, c, d] = sim.control.listObjects(tenantId, 'user', { limit: 4 });
    sim.control.updateObject(tenantId, a.id, { department: 'Unselected' });
    sim.control.updateObject(tenantId, b.id, { jobTitle: 'Selected change' });
    sim.control.deleteObject(tenantId, c.id);
    sim.control.deleteObject(tenantId, d.id, { hard: true });
    const added = sim.control.createObject(tenantId, 'user', {
      displayName: 'Created',
      userPrincipalName: 'created@x.example',
    });
    const second = await round(client, first.deltaLink);
    const got = byId(second.items);
    assert.deepEqual([...got.keys()].sort(), [b.id, c.id, d.id, added.id].sort());
    assert.equal(got.has(a.id), false, 'unselected property change');
    assert.deepEqual(got.get(b.id), { displayName: b.data.displayName, jobTitle: 'Selected change', id: b.id });
    assert.deepEqual(got.get(c.id), { id: c.id, '@removed': { reason: 'changed' } });
    assert.deepEqual(got.get(d.id), { id: d.id, '@removed': { reason: 'deleted' } });
    assert.deepEqual(got.get(added.id), { displayName: 'Created', id: added.id }, 'never-set jobTitle omitted');
  });

  it('users without $select: every property is tracked and the default property set is returned', async () => {
    const first = await round(client, '/users/delta');
    const u = sim.control.listObjects(tenantId, 'user', { limit: 1 })[0];
    sim.control.updateObject(tenantId, u.id, { department: 'Outside the default set' });
    const next = await round(client, first.deltaLink);
    assert.deepEqual(
      next.items.map((i) => i.id),
      [u.id],
    );
    assert.equal(next.items[0].department, undefined, 'department is not a default property');
    assert.equal(next.items[0].userPrincipalName, u.data.userPrincipalName);
  });

  it('groups $select=<props>,members: every group initially, then groups whose selected props or membership changed', async () => {
    const groups = sim.control.listObjects(tenantId, 'group', { limit: 10_000 });
    const first = await round(client, '/groups/delta?$select=displayName,description,members');
    const initial = byId(first.items);
    assert.equal(initial.size, groups.length, 'every group in the initial round');
    for (const g of groups) {
      const members = sim.control.listMembers(tenantId, g.id);
      const md = (initial.get(g.id)?.['members@delta'] ?? []) as Item[];
      assert.deepEqual(md.map((m) => m.id).sort(), [...members].sort(), `members@delta of ${g.id}`);
      assert.equal(initial.get(g.id)?.mailNickname, undefined, 'unselected property not returned');
    }
    const [g1, g2, g3, g4] = groups.filter((g) => sim.control.listMembers(tenantId, g.id).length > 0);
    const users = sim.control.listObjects(tenantId, 'user', { limit: 100 });
    const outsider = users.find((u) => !sim.control.listMembers(tenantId, g2.id).includes(u.id)) as { id: string };
    sim.control.updateObject(tenantId, g1.id, { mailNickname: 'unselected-change' });
    sim.control.addMember(tenantId, g2.id, outsider.id);
    sim.control.updateObject(tenantId, g3.id, { description: 'selected change' });
    const removed = sim.control.listMembers(tenantId, g4.id)[0];
    sim.control.removeMember(tenantId, g4.id, removed);
    const next = await round(client, first.deltaLink);
    const got = byId(next.items);
    assert.deepEqual([...got.keys()].sort(), [g2.id, g3.id, g4.id].sort());
    assert.deepEqual(got.get(g2.id)?.['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: outsider.id }]);
    assert.equal(got.get(g2.id)?.displayName, g2.data.displayName, 'selected properties come with the entry');
    assert.equal(got.get(g3.id)?.description, 'selected change');
    assert.equal(got.get(g3.id)?.['members@delta'], undefined, 'no membership change, no members@delta');
    assert.deepEqual(got.get(g4.id)?.['members@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: removed, '@removed': { reason: 'deleted' } },
    ]);
  });

  it('groups $select=members only tracks membership; $select without members does not', async () => {
    const members = await round(client, '/groups/delta?$select=members');
    const scalars = await round(client, '/groups/delta?$select=displayName');
    assert.ok(members.items.every((g) => Object.keys(g).every((k) => k === 'id' || k === 'members@delta')));
    assert.ok(scalars.items.every((g) => g['members@delta'] === undefined));
    const [g1, g2] = sim.control.listObjects(tenantId, 'group', { limit: 2 });
    const user = sim.control
      .listObjects(tenantId, 'user', { limit: 100 })
      .find((u) => !sim.control.listMembers(tenantId, g1.id).includes(u.id)) as { id: string };
    sim.control.addMember(tenantId, g1.id, user.id);
    sim.control.updateObject(tenantId, g2.id, { displayName: 'Renamed' });
    const m2 = await round(client, members.deltaLink);
    const s2 = await round(client, scalars.deltaLink);
    assert.deepEqual(m2.items, [
      { id: g1.id, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: user.id }] },
    ]);
    assert.deepEqual(s2.items, [{ id: g2.id, displayName: 'Renamed' }]);
  });

  it('Prefer: return=minimal returns only the changed properties, removed ones as null', async () => {
    const first = await round(client, '/users/delta?$select=displayName,department,jobTitle');
    const u = sim.control.listObjects(tenantId, 'user', { limit: 10 }).find((x) => x.data.department) as {
      id: string;
    };
    sim.control.updateObject(tenantId, u.id, { displayName: 'Minimal Person', department: null });
    const page = (await client.api(first.deltaLink).header('Prefer', 'return=minimal').get()) as DeltaPage;
    assert.deepEqual(page.value, [{ id: u.id, displayName: 'Minimal Person', department: null }]);
  });

  it('refuses $orderby on delta (and $expand/$top on users and groups)', async () => {
    const t = await token(sim, tenantId, backup);
    for (const p of [
      '/users/delta?$orderby=displayName',
      '/groups/delta?$expand=members',
      '/groups/delta?$top=5',
      '/applications/delta?$orderby=displayName',
    ]) {
      const r = await graphFetch(sim, t, p);
      assert.equal(r.status, 400, p);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'Request_UnsupportedQuery', p);
    }
  });
});

describe('simulator: delta state per simulator instance', function () {
  it('two simulators in one process never share delta paging state', async () => {
    const a = await startTenant({ users: 450, app: 'backup' });
    const b = await startTenant({ users: 450, app: 'backup' });
    try {
      const pageA = (await a.client.api('/users/delta').get()) as DeltaPage;
      const nextA = pageA['@odata.nextLink'] as string;
      assert.ok(nextA, 'the round is paged');
      // A's skiptoken presented to B: B knows no such round.
      const onB = nextA.replace(a.sim.graphRootUrl, b.sim.graphRootUrl);
      const res = await graphFetch(
        b.sim,
        await token(b.sim, b.tenantId, b.backup),
        onB.slice(b.sim.graphRootUrl.length),
      );
      assert.equal(res.status, 410);
      const restA = await round(a.client, nextA);
      assert.equal(pageA.value.length + restA.items.length, 450, 'A still completes its round');
      // A deltaLink of A's tenant names no sync state in B: 410, restart from scratch.
      const onBDelta = restA.deltaLink.replace(a.sim.graphRootUrl, '');
      const r2 = await graphFetch(b.sim, await token(b.sim, b.tenantId, b.backup), onBDelta);
      assert.equal(r2.status, 410);
    } finally {
      await a.sim.close();
      await b.sim.close();
    }
  });
});

describe('simulator: recycle bin purged after 30 days of simulated time', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;

  before(async () => ({ sim, backup, tenantId } = await startTenant({ users: 40, app: 'backup' })));
  after(() => sim.close());

  it('permanently deletes items 30 days after deletion; delta reports @removed deleted and the membership removal', async () => {
    const group = sim.control
      .listObjects(tenantId, 'group', { limit: 1000 })
      .find((g) => g.data.displayName === 'All Users') as { id: string };
    const user = sim.control.listMembers(tenantId, group.id)[0];
    sim.control.deleteObject(tenantId, user);
    sim.control.advanceClock(29 * 86400_000);
    // The clock moved: a new graph-client (new msal cache) gets a token valid in simulated time.
    let client = graphClient(sim, tenantId, backup);
    const users = await round(client, '/users/delta?$deltatoken=latest');
    const groups = await round(client, '/groups/delta?$deltatoken=latest');
    const bin = (await client.api('/directory/deletedItems/microsoft.graph.user').get()) as DeltaPage;
    assert.ok(
      bin.value.some((i) => i.id === user),
      'still restorable after 29 days',
    );

    sim.control.advanceClock(1 * 86400_000 + 1000);
    client = graphClient(sim, tenantId, backup);
    const after = (await client.api('/directory/deletedItems/microsoft.graph.user').get()) as DeltaPage;
    assert.equal(
      after.value.some((i) => i.id === user),
      false,
    );
    assert.equal(sim.control.getTenant(tenantId).counts.deletedItems, 0);
    const u = await round(client, users.deltaLink);
    assert.deepEqual(u.items, [{ id: user, '@removed': { reason: 'deleted' } }]);
    const g = await round(client, groups.deltaLink);
    const entry = g.items.find((i) => i.id === group.id) as Item;
    assert.deepEqual(entry['members@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: user, '@removed': { reason: 'deleted' } },
    ]);
  });
});
