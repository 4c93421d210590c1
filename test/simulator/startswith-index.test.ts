import assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import type * as MG from '@microsoft/microsoft-graph-types';
import { Simulator } from '../../simulator';
import { generateTenant } from '../../simulator/seed/generate-tenant';
import { TenantStore } from '../../simulator/store/tenant';
import { StoredObject } from '../../simulator/store/types';
import { Random } from '../../simulator/util/random';
import { startTenant } from './helpers';

/**
 * The simulator answers `startswith` filters and their counts from a memoised index (simulator/store/
 * startswith-index.ts, issue 16). Its answers must stay those of filtering every object, in the same order, whatever
 * writes came between two requests: each check below runs after a write, with the index built by the check before.
 */

const upn = (o: StoredObject) => o.data.userPrincipalName;
const matches = (o: StoredObject, prop: string, prefix: string) =>
  typeof o.data[prop] === 'string' && (o.data[prop] as string).toLowerCase().startsWith(prefix);
const ids = (objs: readonly StoredObject[]) => objs.map((o) => o.id);

describe('simulator: startswith index', function () {
  describe('against a brute-force filter of the store, write after write', () => {
    let t: TenantStore;
    let rnd: Random;
    let groups: string[];
    /** How often a member answer came from the index (it may decline for a small group and scan instead). */
    let indexedMemberAnswers = 0;

    before(() => {
      t = generateTenant({ seed: 5, users: 400, now: Date.parse('2026-06-01T00:00:00Z') });
      rnd = new Random(11);
      const byName = (name: string) => t.list('group').find((g) => g.data.displayName === name)!.id;
      const small = t.list('group').find((g) => /^(Team|Project|Club|Committee) /.test(String(g.data.displayName)))!.id;
      groups = [byName('All Users'), t.list('group').find((g) => /^Dept /.test(String(g.data.displayName)))!.id, small];
    });

    /** Prefixes to check: fixed ones (empty, none matching, a quote, upper case in values) and some of live values. */
    function prefixes(prop: string): string[] {
      const users = t.list('user');
      const live = [0, 1, 2, 3].map(() => {
        const v = users[rnd.int(0, users.length)]?.data[prop];
        return typeof v === 'string' ? v.slice(0, rnd.int(1, 4)).toLowerCase() : 'x';
      });
      return ['', 'a', 'j', 'ma', 'zzz', "o'", 'new', 'new.u', ...live];
    }

    function check(step: string): void {
      for (const prop of ['userPrincipalName', 'displayName']) {
        for (const p of prefixes(prop)) {
          const brute = t.list('user').filter((o) => matches(o, prop, p));
          const where = `${step}: startswith(${prop},'${p}')`;
          assert.deepEqual(ids(t.startsWith.objects('user', prop, p)), ids(brute), where);
          assert.equal(t.startsWith.count('user', prop, p), brute.length, where);
          for (const g of groups) {
            const members = [...(t.members.get(g) ?? [])]
              .map((id) => t.index.get(id))
              .filter((o): o is StoredObject => o?.kind === 'user' && matches(o, prop, p));
            const indexed = t.startsWith.members(g, 'user', prop, p);
            const counted = t.startsWith.countMembers(g, 'user', prop, p);
            assert.equal(indexed === undefined, counted === undefined, `${where}, group ${g}: both or neither`);
            if (indexed === undefined) continue;
            indexedMemberAnswers++;
            assert.deepEqual(ids(indexed), ids(members), `${where}, members of ${g}`);
            assert.equal(counted, members.length, `${where}, member count of ${g}`);
          }
        }
      }
    }

    it('answers as the filter does after creates, updates, deletes, restores and member changes', () => {
      check('seeded');
      const now = '2026-06-01T00:00:00Z';
      const live = () => t.list('user');
      const pick = () => live()[rnd.int(0, live().length)];
      /** Each write answers whether it changed anything (a restore needs a deleted user, …). */
      const writes: Record<string, () => boolean> = {
        create: () => {
          const id = rnd.uuid();
          // Mixed case: the match is case-insensitive.
          const name = `New.U${rnd.int(0, 1000)}`;
          t.insert('user', id, { id, userPrincipalName: `${name}@Contoso.example`, displayName: name });
          return true;
        },
        rename: () => {
          t.update(pick(), { userPrincipalName: `${rnd.chance(0.5) ? 'Ma' : "o'"}${rnd.uuid()}@x.example` });
          return true;
        },
        renameDisplay: () => {
          t.update(pick(), { displayName: `Zzz ${rnd.int(0, 100)}` });
          return true;
        },
        clearDisplay: () => {
          t.update(pick(), { displayName: null });
          return true;
        },
        otherProperty: () => {
          t.update(pick(), { jobTitle: `T${rnd.int(0, 5)}` });
          return true;
        },
        softDelete: () => {
          t.remove(pick(), now);
          return true;
        },
        restore: () => {
          const gone = [...t.recycleBin.values()].filter((o) => o.kind === 'user');
          return gone.length > 0 && t.restore(gone[rnd.int(0, gone.length)].id) !== undefined;
        },
        hardDelete: () => {
          const gone = [...t.recycleBin.values()].filter((o) => o.kind === 'user');
          return gone.length > 0 && t.permanentlyDelete(gone[rnd.int(0, gone.length)].id);
        },
        addMember: () => {
          const g = groups[rnd.int(0, groups.length)];
          const outside = live().filter((o) => !t.members.get(g)?.has(o.id));
          return outside.length > 0 && t.addMember(g, outside[rnd.int(0, outside.length)].id);
        },
        removeMember: () => {
          const g = groups[rnd.int(0, groups.length)];
          const members = [...(t.members.get(g) ?? [])];
          return members.length > 0 && t.removeMember(g, members[rnd.int(0, members.length)]);
        },
        // Re-adding a removed member puts it last in the member list's order.
        readdMember: () => {
          const g = groups[0];
          const first = t.members.get(g)?.values().next().value;
          return first !== undefined && t.removeMember(g, first) && t.addMember(g, first);
        },
      };
      const names = Object.keys(writes);
      // Each write in turn (two deletes a round, so a restore and a hard delete find a deleted user), on random targets.
      const round = [...names, 'softDelete'];
      const applied = new Map<string, number>();
      for (let i = 0; i < 20 * round.length; i++) {
        const name = round[i % round.length];
        if (writes[name]()) applied.set(name, (applied.get(name) ?? 0) + 1);
        check(`write ${i} (${name})`);
      }
      for (const name of names) assert.ok((applied.get(name) ?? 0) >= 15, `${name} applied ${applied.get(name)} times`);
      assert.ok(indexedMemberAnswers > 1000, `the member index answered (${indexedMemberAnswers} times)`);
      assert.ok(
        live().some((o) => /^new\.u/i.test(String(upn(o)))),
        'created users are found',
      );
    });
  });

  describe('through Graph: partition pages and counts', () => {
    let sim: Simulator;
    let client: Client;

    before(async () => ({ sim, client } = await startTenant({ users: 120, app: 'restore' })));
    after(() => sim.close());

    const filterOf = (p: string) => `startswith(userPrincipalName,'${p.replace(/'/g, "''")}')`;

    /** Every page of a listing, following nextLink (with its skiptoken) as a client does. */
    async function readAll(url: string): Promise<{ ids: string[]; count: number; pages: number }> {
      const out: string[] = [];
      let next: string | undefined = url;
      let count = -1;
      let pages = 0;
      while (next) {
        const page = (await client.api(next).header('ConsistencyLevel', 'eventual').get()) as {
          value: { id: string }[];
          '@odata.count'?: number;
          '@odata.nextLink'?: string;
        };
        if (pages++ === 0) count = page['@odata.count'] ?? -1;
        out.push(...page.value.map((v) => v.id));
        next = page['@odata.nextLink'];
      }
      return { ids: out, count, pages };
    }

    const countOf = async (url: string) =>
      Number((await client.api(url).header('ConsistencyLevel', 'eventual').get()) as unknown);

    async function check(groupId: string, prefixes: string[]): Promise<void> {
      // The tenant fits one page of 999: the unfiltered list, in its order, is the reference.
      const all = (await client.api('/users').select(['id', 'userPrincipalName']).top(999).get()) as {
        value: MG.User[];
        '@odata.nextLink'?: string;
      };
      assert.equal(all['@odata.nextLink'], undefined);
      const users = all.value.map((u) => u.id as string);
      const members = (await readAll(`/groups/${groupId}/members/microsoft.graph.user?$select=id,userPrincipalName`))
        .ids;
      const upnOf = new Map(all.value.map((u) => [u.id as string, String(u.userPrincipalName).toLowerCase()]));
      for (const p of prefixes) {
        const want = users.filter((id) => upnOf.get(id)!.startsWith(p.toLowerCase()));
        const q = `$select=id,userPrincipalName&$top=7&$count=true&$filter=${encodeURIComponent(filterOf(p))}`;
        const got = await readAll(`/users?${q}`);
        assert.deepEqual(got.ids, want, `users '${p}'`);
        assert.equal(got.count, want.length, `@odata.count '${p}'`);
        assert.equal(got.pages, Math.max(1, Math.ceil(want.length / 7)), `pages of 7 for '${p}'`);
        assert.equal(await countOf(`/users/$count?$filter=${encodeURIComponent(filterOf(p))}`), want.length);
        const wantMembers = members.filter((id) => upnOf.get(id)!.startsWith(p.toLowerCase()));
        const cast = `/groups/${groupId}/members/microsoft.graph.user`;
        const gotMembers = await readAll(`${cast}?${q}`);
        assert.deepEqual(gotMembers.ids, wantMembers, `members '${p}'`);
        assert.equal(gotMembers.count, wantMembers.length, `members @odata.count '${p}'`);
        assert.equal(
          await countOf(`${cast}/$count?$filter=${encodeURIComponent(filterOf(p))}`),
          wantMembers.length,
          `members $count '${p}'`,
        );
      }
    }

    it('pages and counts as a filter of the full list does, after writes through Graph', async () => {
      const groups = (await client.api('/groups').filter("displayName eq 'All Users'").get()) as { value: MG.Group[] };
      const g = groups.value[0].id as string;
      const prefixes = ['', 'a', 'J', 'm', 'Pre', "o'", 'zzz'];
      await check(g, prefixes);
      const created: string[] = [];
      for (const name of ['Pre.One', 'pre.two', "O'Brien"]) {
        const u = (await client.api('/users').post({
          accountEnabled: true,
          displayName: name,
          mailNickname: name.replace(/\W/g, ''),
          userPrincipalName: `${name}@contoso.example`,
          passwordProfile: { password: 'P@ssw0rd!123', forceChangePasswordNextSignIn: true },
        })) as MG.User;
        created.push(u.id as string);
        await client.api(`/groups/${g}/members/$ref`).post({
          '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}`,
        });
      }
      await check(g, prefixes);
      const first = (await client.api('/users').top(1).get()) as { value: MG.User[] };
      await client.api(`/users/${first.value[0].id}`).patch({ userPrincipalName: 'pre.renamed@contoso.example' });
      await client.api(`/users/${created[0]}`).delete();
      await client.api(`/groups/${g}/members/${created[1]}/$ref`).delete();
      await check(g, prefixes);
      await client.api(`/directory/deletedItems/${created[0]}/restore`).post({});
      await client.api(`/groups/${g}/members/$ref`).post({
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${created[1]}`,
      });
      await check(g, prefixes);
    });
  });
});
