import assert from 'node:assert/strict';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { Simulator } from '../../simulator';
import { TestApp, startTenant, token } from './helpers';

type Item = Record<string, unknown> & { id: string };
interface DeltaPage {
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: Item[];
}

/** Follows nextLinks to the deltaLink, as a delta client does. */
async function round(client: Client, url: string): Promise<{ items: Item[]; deltaLink: string; pages: number }> {
  const items: Item[] = [];
  let pages = 0;
  let next: string | undefined = url;
  for (;;) {
    const page = (await client.api(next).get()) as DeltaPage;
    pages++;
    items.push(...page.value);
    if (page['@odata.nextLink']) next = page['@odata.nextLink'];
    else return { items, deltaLink: page['@odata.deltaLink'] as string, pages };
  }
}

describe('simulator: delta query', function () {
  let sim: Simulator;
  let backup: TestApp;
  let tenantId: string;
  let client: Client;

  before(async () => ({ sim, backup, tenantId, client } = await startTenant({ users: 450, app: 'backup' })));
  after(() => sim.close());

  it('users: full round, then changes with @removed changed (soft) and deleted (hard)', async () => {
    const first = await round(client, '/users/delta');
    assert.equal(first.items.length, 450);
    assert.ok(first.pages > 1, 'initial round is paged');
    assert.ok(first.deltaLink.startsWith(`${sim.graphRootUrl}/users/delta?$deltatoken=`));

    const empty = await round(client, first.deltaLink);
    assert.equal(empty.items.length, 0);

    const [a, b, c] = sim.control.listObjects(tenantId, 'user', { limit: 3 });
    sim.control.updateObject(tenantId, a.id, { jobTitle: 'Chief Tester' });
    sim.control.deleteObject(tenantId, b.id);
    sim.control.deleteObject(tenantId, c.id, { hard: true });
    const added = sim.control.createObject(tenantId, 'user', {
      displayName: 'New Person',
      userPrincipalName: 'new.person@x.example',
      accountEnabled: true,
    });
    const second = await round(client, empty.deltaLink);
    const byId = new Map(second.items.map((i) => [i.id, i]));
    assert.equal(byId.size, 4);
    assert.equal(byId.get(a.id)?.jobTitle, 'Chief Tester');
    assert.deepEqual(byId.get(b.id)?.['@removed'], { reason: 'changed' });
    assert.deepEqual(byId.get(c.id)?.['@removed'], { reason: 'deleted' });
    assert.equal(byId.get(added.id)?.displayName, 'New Person');

    // Restore the soft-deleted user: it comes back without annotation.
    sim.control.restoreObject(tenantId, b.id);
    const third = await round(client, second.deltaLink);
    assert.deepEqual(
      third.items.map((i) => [i.id, i['@removed']]),
      [[b.id, undefined]],
    );
  });

  it('groups: members@delta on the initial round and for added / removed members', async () => {
    const first = await round(client, '/groups/delta');
    const allUsers = first.items.filter((g) => g.displayName === 'All Users');
    const total = allUsers.reduce((n, g) => n + ((g['members@delta'] as unknown[]) ?? []).length, 0);
    assert.equal(
      total,
      sim.control.listMembers(tenantId, allUsers[0].id).length,
      'members spread over the group entries',
    );
    assert.ok(total > 400);
    const dept = first.items.find((g) => String(g.displayName).startsWith('Dept ')) as Item;
    const members = sim.control.listMembers(tenantId, dept.id);
    const outsider = sim.control.listObjects(tenantId, 'user', { limit: 500 }).find((u) => !members.includes(u.id)) as {
      id: string;
    };
    sim.control.removeMember(tenantId, dept.id, members[0]);
    sim.control.addMember(tenantId, dept.id, outsider.id);
    const next = await round(client, first.deltaLink);
    const g = next.items.find((i) => i.id === dept.id) as Item;
    const md = g['members@delta'] as Item[];
    assert.deepEqual(
      md.map((m) => [m.id, m['@odata.type'], m['@removed']]).sort(),
      [
        [members[0], '#microsoft.graph.user', { reason: 'deleted' }],
        [outsider.id, '#microsoft.graph.user', undefined],
      ].sort(),
    );
  });

  it('$deltatoken=latest returns only a deltaLink; changes after it are seen', async () => {
    const latest = (await client.api('/users/delta').query({ $deltatoken: 'latest' }).get()) as DeltaPage;
    assert.equal(latest.value.length, 0);
    assert.ok(latest['@odata.deltaLink']);
    const u = sim.control.listObjects(tenantId, 'user', { limit: 1 })[0];
    sim.control.updateObject(tenantId, u.id, { department: 'Delta' });
    const r = await round(client, latest['@odata.deltaLink'] as string);
    assert.deepEqual(
      r.items.map((i) => i.id),
      [u.id],
    );
  });

  it('$select is baked into the links and limits the properties', async () => {
    const r = await round(client, '/users/delta?$select=displayName,department');
    assert.deepEqual(Object.keys(r.items[0]).sort(), ['department', 'displayName', 'id']);
    assert.doesNotMatch(r.deltaLink, /\$select/);
  });

  it('supports delta on applications, servicePrincipals, administrativeUnits, directoryRoles, oauth2PermissionGrants and devices', async () => {
    for (const p of [
      '/applications',
      '/servicePrincipals',
      '/directory/administrativeUnits',
      '/directoryRoles',
      '/oauth2PermissionGrants',
      '/devices',
    ]) {
      const r = await round(client, `${p}/delta`);
      assert.ok(r.items.length > 0, p);
      assert.ok(r.deltaLink.includes(`${p}/delta?$deltatoken=`), p);
    }
  });

  it('answers 410 Gone with a Location for tokens older than 7 days or expired on demand', async () => {
    const a = await round(client, '/users/delta');
    sim.control.expireDeltaTokens(tenantId);
    await assert.rejects(client.api(a.deltaLink).get(), (e: GraphError) => e.statusCode === 410);
    const b = await round(client, '/groups/delta');
    // Moving simulated time also expires the access token msal-node has cached (1 h): use a fresh one.
    sim.control.advanceClock(7 * 86400_000 + 1000);
    const res = await fetch(b.deltaLink, {
      headers: { authorization: `Bearer ${await token(sim, tenantId, backup)}` },
    });
    assert.equal(res.status, 410);
    assert.equal(res.headers.get('location'), `${sim.graphRootUrl}/groups/delta?$deltatoken=`);
  });
});
