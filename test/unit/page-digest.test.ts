import assert from 'node:assert/strict';
import {
  HARD_DELETED,
  PRESENT,
  SOFT_DELETED,
  digestItems,
  parsePage,
  scanAllLinks,
  scanPageLinks,
  type DigestedItems,
} from '../../activities/backup/page-digest';
import { PageDigester } from '../../activities/backup/page-digester';
import { storedForm } from '../../storage/stored-form';
import { canonicalBytes, canonicalJson } from '../../storage/canonical-json';

const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

const users = [
  { id: 'u1', displayName: 'Ada', accountEnabled: true, city: null, '@odata.type': '#microsoft.graph.user' },
  { displayName: 'No id' },
  { id: 'u2', displayName: 'Bob', assignedLicenses: [{ skuId: 's', disabledPlans: [] }], '@removed': undefined },
  { id: 'u3', '@removed': { reason: 'changed' } },
  { id: 'u4', '@removed': { reason: 'deleted' } },
  { id: 'u5', '9lives': 1, b: 'x', a: 'y' },
];

/** The bytes of item i of a digest. */
const itemText = (d: DigestedItems, i: number) =>
  Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength).toString('utf8', d.offsets[i], d.offsets[i + 1]);

describe('backup: pages digested for storing', () => {
  it('finds the links of a page without parsing it, whatever order the members come in', () => {
    const value = [{ id: 'a', note: 'x"],"@odata.nextLink":"https://evil/"}' }];
    const cases: Array<[Record<string, unknown>, string | undefined, string | undefined]> = [
      [{ '@odata.context': 'c', '@odata.nextLink': 'https://g/v1.0/users?$skiptoken=A', value }, 'A', undefined],
      [
        { '@odata.context': 'c', value, '@odata.deltaLink': 'https://g/v1.0/users/delta?$deltatoken=B' },
        undefined,
        'B',
      ],
      [{ value, '@odata.nextLink': 'https://g/v1.0/x?$skiptoken=C', '@odata.count': 3 }, 'C', undefined],
      [{ '@odata.count': 3, '@odata.nextLink': 'https://g/?q="D"\\', value }, '"D"\\', undefined],
      [{ value: [] }, undefined, undefined],
      [{ meta: { '@odata.nextLink': 'https://nested/' }, value, '@odata.nextLink': 'https://g/?E' }, 'E', undefined],
    ];
    for (const [page, next, delta] of cases) {
      for (const text of [JSON.stringify(page), JSON.stringify(page, null, 2)]) {
        const links = scanPageLinks(bytes(text));
        assert.deepEqual(links, parsePage(bytes(text)).links, text);
        assert.deepEqual(scanAllLinks(bytes(text)), links, text);
        if (next) assert.ok(links?.nextLink?.endsWith(next), text);
        else assert.equal(links?.nextLink, undefined, text);
        if (delta) assert.ok(links?.deltaLink?.endsWith(delta), text);
        else assert.equal(links?.deltaLink, undefined, text);
      }
    }
  });

  it('says it cannot tell when the body is not a JSON object', () => {
    for (const text of ['[1,2]', '{"value":[1,2]', '', 'null'])
      assert.equal(scanPageLinks(bytes(text)), undefined, text);
    assert.throws(() => parsePage(bytes('{"error":{"code":"x"}}')), /not a page of a collection/);
  });

  it('digests items exactly as they are stored one by one: stored form and canonical JSON', () => {
    const d = digestItems(users, { idProperty: 'id', displayNameProperty: 'displayName' });
    assert.deepEqual(d.ids, ['u1', 'u2', 'u3', 'u4', 'u5'], 'items without an id are skipped');
    assert.deepEqual(d.names, ['Ada', 'Bob', null, null, null]);
    assert.deepEqual([...d.removed], [PRESENT, PRESENT, SOFT_DELETED, HARD_DELETED, PRESENT]);
    for (const i of [0, 1, 4]) {
      const item = users.find((u) => u.id === d.ids[i])!;
      const expected = canonicalBytes(storedForm(item));
      assert.equal(itemText(d, i), expected.toString('utf8'));
    }
    assert.equal(
      itemText(d, 0),
      '{"@odata.type":"#microsoft.graph.user","accountEnabled":true,"displayName":"Ada","id":"u1"}',
    );
    assert.equal(itemText(d, 4), '{"9lives":1,"a":"y","b":"x","id":"u5"}', 'an index-like key is still sorted as text');
    assert.equal(itemText(d, 2), '', 'a removed item has no bytes');
    assert.equal(d.bytes.byteLength, d.bytes.buffer.byteLength, 'the bytes own their buffer (transferable)');
  });

  it('gives each item its search keys: the values of the type’s search properties, lower-cased', () => {
    const items = [
      { id: 'u1', displayName: 'Ada', userPrincipalName: 'Ada@Contoso.example', mail: 'ADA@contoso.example' },
      { id: 'u2', displayName: 'Bob', userPrincipalName: 'bob@contoso.example', mail: null },
      { id: 'u3', displayName: 'Cy' },
    ];
    const d = digestItems(items, {
      idProperty: 'id',
      displayNameProperty: 'displayName',
      searchProperties: ['userPrincipalName', 'mail'],
    });
    assert.deepEqual(d.search, [['ada@contoso.example', 'ada@contoso.example'], ['bob@contoso.example'], []]);
    assert.deepEqual(digestItems(items, { idProperty: 'id' }).search, [null, null, null], 'a type without any');
  });

  it('keeps the canonical form when storedForm reuses the key order of the previous item', () => {
    const a = { id: 'x', z: 1, a: { d: 1, c: 2 } };
    const b = { id: 'y', z: 2, a: { c: 3, d: 4 } };
    assert.equal(canonicalJson(storedForm(a)), '{"a":{"c":2,"d":1},"id":"x","z":1}');
    assert.equal(canonicalJson(storedForm(b)), '{"a":{"c":3,"d":4},"id":"y","z":2}');
  });

  it('digests in a worker thread with the same result as on the calling thread', async () => {
    const page = { '@odata.context': 'c', '@odata.nextLink': 'https://g/v1.0/users?$skiptoken=N', value: users };
    const spec = { idProperty: 'id', displayNameProperty: 'displayName' };
    const threaded = new PageDigester(1);
    const here = new PageDigester(0);
    try {
      const a = threaded.digest(bytes(JSON.stringify(page)), spec);
      const b = here.digest(bytes(JSON.stringify(page)), spec);
      assert.deepEqual(await a.links, { nextLink: 'https://g/v1.0/users?$skiptoken=N' });
      assert.deepEqual(await a.links, await b.links);
      const [x, y] = [await a.items, await b.items];
      assert.deepEqual(
        { ...x, bytes: Buffer.from(x.bytes), removed: [...x.removed], offsets: [...x.offsets] },
        { ...y, bytes: Buffer.from(y.bytes), removed: [...y.removed], offsets: [...y.offsets] },
      );
      assert.deepEqual(threaded.stats, { inThread: 1, onCaller: 0 });
      assert.deepEqual(here.stats, { inThread: 0, onCaller: 1 });
    } finally {
      await threaded.close();
    }
  });

  it('fails a page the thread cannot parse, and goes on with the next', async () => {
    const digester = new PageDigester(1);
    try {
      const bad = digester.digest(bytes('{"value": [1, '), { idProperty: 'id' });
      await assert.rejects(bad.items, /digesting a page failed/);
      const good = digester.digest(bytes('{"value":[{"id":"a"}]}'), { idProperty: 'id' });
      assert.deepEqual((await good.items).ids, ['a']);
    } finally {
      await digester.close();
    }
  });
});
