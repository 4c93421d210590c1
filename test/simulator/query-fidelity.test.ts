import assert from 'node:assert/strict';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type * as MG from '@microsoft/microsoft-graph-types';
import { Simulator } from '../../simulator';
import { OBJECT_TYPES } from '../../catalog/object-types';
import { searchTokens } from '../../simulator/graph/query';
import { startTenant } from './helpers';

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

const errorOf = async (p: Promise<unknown>): Promise<{ status: number; code: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    const g = e as GraphError;
    return { status: g.statusCode, code: g.code ?? '', message: g.message };
  }
  throw new Error('expected the request to fail');
};

describe('simulator: $select, $search and addPassword as Graph documents them', function () {
  let sim: Simulator;
  let client: Client;

  before(async () => ({ sim, client } = await startTenant({ users: 50, app: 'restore' })));
  after(() => sim.close());

  describe('$select', () => {
    it('answers 400 for a property the type does not have, on lists and on one object', async () => {
      const list = await errorOf(client.api('/users').select(['id', 'displayNam']).get());
      assert.equal(list.status, 400);
      assert.equal(list.code, 'Request_BadRequest');
      assert.equal(list.message, "Could not find a property named 'displayNam' on type 'microsoft.graph.user'.");
      const groups = (await client.api('/groups').top(1).get()) as Page<MG.Group>;
      const one = await errorOf(client.api(`/groups/${groups.value[0].id}`).select('userPrincipalName').get());
      assert.equal(one.status, 400);
      assert.match(one.message, /on type 'microsoft\.graph\.group'/);
    });

    it('answers 501 NotImplemented for single-user-only properties on the users collection, not on one user', async () => {
      for (const p of ['aboutMe', 'skills']) {
        const e = await errorOf(client.api('/users').select(['id', p]).get());
        assert.equal(e.status, 501, p);
        assert.equal(e.code, 'NotImplemented');
      }
      const users = (await client.api('/users').top(1).get()) as Page<MG.User>;
      const one = (await client.api(`/users/${users.value[0].id}`).select('aboutMe').get()) as MG.User;
      assert.equal(one.id, users.value[0].id);
    });

    it('checks $select on typed relationship lists too (appRoleAssignments)', async () => {
      const sps = (await client.api('/servicePrincipals').top(1).get()) as Page<MG.ServicePrincipal>;
      const e = await errorOf(
        client.api(`/servicePrincipals/${sps.value[0].id}/appRoleAssignedTo`).select(['id', 'appRoleName']).get(),
      );
      assert.equal(e.status, 400);
      assert.match(e.message, /microsoft\.graph\.appRoleAssignment/);
    });

    it('matches property names case-insensitively and renders them with Graph spelling', async () => {
      const page = (await client.api('/users').top(1).select('DisplayName').get()) as Page<MG.User>;
      assert.equal(typeof page.value[0].displayName, 'string');
    });

    it('rejects an unknown property in a delta $select but accepts tracked relationships', async () => {
      const bad = await errorOf(client.api('/groups/delta').select(['displayName', 'nope']).get());
      assert.equal(bad.status, 400);
      const ok = (await client.api('/groups/delta').select(['displayName', 'members']).get()) as Page<MG.Group>;
      assert.ok(Array.isArray(ok.value));
    });

    it("accepts every $select list of the backup catalog's types and relationships", async () => {
      let checked = 0;
      for (const t of OBJECT_TYPES) {
        if (!t.select || t.path.includes('{')) continue;
        const res = (await client
          .api(t.path)
          .select([...t.select])
          .get()) as Page<{ id: string }>;
        assert.ok(Array.isArray(res.value), t.path);
        checked++;
        const parent = res.value[0];
        for (const rel of t.relationships as readonly { path: string; select: readonly string[] | null }[]) {
          if (!parent || !rel.select) continue;
          const path = rel.path.replace('{id}', parent.id);
          const page = (await client
            .api(path)
            .select([...rel.select])
            .get()) as Page<unknown>;
          assert.ok(Array.isArray(page.value), path);
          checked++;
        }
      }
      assert.ok(checked >= 20, `checked ${checked} lists`);
    });
  });

  describe('$search', () => {
    before(async () => {
      const mk = (displayName: string, nick: string) =>
        client.api('/users').post({
          accountEnabled: true,
          displayName,
          mailNickname: nick,
          userPrincipalName: `${nick}@contoso-search.test`,
          mail: `${nick}@contoso-search.test`,
          passwordProfile: { password: 'xWwvJ]6NMw+bWH-d' },
        });
      await mk('HelloWorld Tester', 'zq.hello');
      await mk('Quentin Zebrafish', 'zq.quentin');
      await mk('Service account 42', 'svc42');
    });

    const search = (s: string, eventual = true) => {
      const r = client.api('/users').search(s).top(999);
      return (eventual ? r.header('ConsistencyLevel', 'eventual') : r).get() as Promise<Page<MG.User>>;
    };
    const names = (p: Page<MG.User>) => p.value.map((u) => u.displayName).sort();

    it('requires ConsistencyLevel: eventual (400 Request_UnsupportedQuery)', async () => {
      const e = await errorOf(search('"displayName:hello"', false));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'Request_UnsupportedQuery');
      assert.match(e.message, /ConsistencyLevel: eventual/);
    });

    it('matches tokens of displayName split at case changes, digits and spaces', async () => {
      assert.deepEqual(searchTokens('HelloWorld tester.v2'), ['hello', 'world', 'tester', '.', 'v', '2']);
      assert.deepEqual(names(await search('"displayName:world"')), ['HelloWorld Tester']);
      assert.deepEqual(names(await search('"displayName:zebra"')), ['Quentin Zebrafish']);
      assert.deepEqual(names(await search('"displayName:42"')), ['Service account 42']);
      assert.deepEqual(names(await search('"displayName:ebra"')), [], 'a token is matched from its start only');
    });

    it('treats mail and userPrincipalName as startswith, and combines clauses with OR and AND', async () => {
      assert.deepEqual(names(await search('"mail:zq."')), ['HelloWorld Tester', 'Quentin Zebrafish']);
      assert.deepEqual(names(await search('"userPrincipalName:svc"')), ['Service account 42']);
      assert.deepEqual(names(await search('"userPrincipalName:contoso-search"')), []);
      assert.deepEqual(names(await search('"displayName:zebra" OR "mail:svc"')), [
        'Quentin Zebrafish',
        'Service account 42',
      ]);
      assert.deepEqual(names(await search('"mail:zq." AND "displayName:tester"')), ['HelloWorld Tester']);
    });

    it('counts what $search selects on /users/$count', async () => {
      const count = (await client
        .api('/users/$count')
        .search('"mail:zq."')
        .header('ConsistencyLevel', 'eventual')
        .get()) as unknown;
      assert.equal(Number(count), 2);
    });

    it('rejects an unquoted search clause', async () => {
      const e = await errorOf(search('displayName:hello'));
      assert.equal(e.status, 400);
    });
  });

  it('addPassword ends two calendar years after the start by default (not 730 days)', async () => {
    const app = (await client.api('/applications').post({ displayName: 'Leap' })) as MG.Application;
    const cred = (await client.api(`/applications/${app.id}/addPassword`).post({
      passwordCredential: { displayName: 'x', startDateTime: '2027-03-01T08:30:00Z' },
    })) as MG.PasswordCredential;
    // 2028 is a leap year: 730 days after 2027-03-01 is 2029-02-28.
    assert.equal(cred.endDateTime, '2029-03-01T08:30:00Z');
    const dflt = (await client
      .api(`/applications/${app.id}/addPassword`)
      .post({ passwordCredential: { displayName: 'y' } })) as MG.PasswordCredential;
    const start = new Date(dflt.startDateTime as string);
    const end = new Date(dflt.endDateTime as string);
    assert.equal(end.getUTCFullYear() - start.getUTCFullYear(), 2);
    assert.equal(
      end.toISOString().slice(4),
      start
        .toISOString()
        .slice(4)
        .replace(/\.\d{3}Z$/, '.000Z'),
    );
  });

  describe('group members: OData cast, $filter and $count as advanced queries', () => {
    const allUsers = async () => {
      const groups = (await client.api('/groups').top(999).get()) as Page<MG.Group>;
      return groups.value.find((g) => g.displayName === 'All Users')!;
    };

    it('refuses $filter on members without $count=true and ConsistencyLevel: eventual, and answers it with them', async () => {
      const group = await allUsers();
      const url = `/groups/${group.id}/members/microsoft.graph.user`;
      const filter = "startswith(userPrincipalName,'a')";
      const refused = await errorOf(client.api(url).filter(filter).get());
      assert.equal(refused.status, 400);
      assert.equal(refused.code, 'Request_UnsupportedQuery');
      assert.match(refused.message, /\$count=true query parameter and ConsistencyLevel:eventual header/);
      const page = (await client
        .api(url)
        .header('ConsistencyLevel', 'eventual')
        .query({ $count: 'true' })
        .filter(filter)
        .top(999)
        .get()) as Page<MG.User> & { '@odata.count': number };
      assert.ok(page.value.length > 0);
      assert.ok(page.value.every((u) => u.userPrincipalName!.toLowerCase().startsWith('a')));
      assert.equal(page['@odata.count'], page.value.length);
    });

    it('counts a group’s members, all or of one type and filtered, only as an advanced query', async () => {
      const group = await allUsers();
      const count = (path: string) =>
        client.api(`/groups/${group.id}/members${path}`).header('ConsistencyLevel', 'eventual').get() as Promise<
          number | string
        >;
      const all = Number(await count('/$count'));
      assert.equal(all, sim.control.listMembers(sim.control.listTenants()[0].id, group.id!).length);
      assert.equal(Number(await count('/microsoft.graph.user/$count')), all);
      assert.equal(Number(await count('/microsoft.graph.group/$count')), 0);
      const users = (await client.api('/users').top(999).get()) as Page<MG.User>;
      const underA = users.value.filter((u) => u.userPrincipalName!.toLowerCase().startsWith('a')).length;
      const filtered = Number(
        await count(`/microsoft.graph.user/$count?$filter=${encodeURIComponent("startswith(userPrincipalName,'a')")}`),
      );
      assert.equal(filtered, underA);
      const refused = await errorOf(client.api(`/groups/${group.id}/members/$count`).get());
      assert.equal(refused.status, 400);
    });
  });
});
