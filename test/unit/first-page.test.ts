import assert from 'node:assert/strict';
import { firstPageOf, withFirstPage } from '../../activities/backup/first-page';
import type { GraphPage, GraphReader } from '../../activities/backup/graph-reader';

describe('the first page read to time a listing', () => {
  const url = 'https://graph.example/v1.0/users?$top=999';
  const next = 'https://graph.example/v1.0/users?$skiptoken=2';
  const body = { '@odata.context': 'x', '@odata.nextLink': next, value: [{ id: 'a' }, { id: 'b' }] };
  const bytes = new TextEncoder().encode(JSON.stringify(body));

  /** Graph as far as these reads go: counts what it is asked for. */
  function graph() {
    const asked: string[] = [];
    const reader = {
      rootUrl: 'https://graph.example/v1.0',
      pageBytes: async (u: string) => {
        asked.push(u);
        return new TextEncoder().encode(JSON.stringify({ value: [{ id: 'z' }] }));
      },
      pages: (u: string) =>
        (async function* (): AsyncGenerator<GraphPage> {
          asked.push(u);
          yield { value: [{ id: 'c' }] };
        })(),
    } as unknown as GraphReader;
    return { reader, asked };
  }

  it('knows its size and next link', () => {
    assert.deepEqual(
      { objects: firstPageOf(url, bytes).objects, nextLink: firstPageOf(url, bytes).nextLink },
      { objects: 2, nextLink: next },
    );
    assert.equal(firstPageOf(url, new TextEncoder().encode('{"value":[]}')).nextLink, undefined);
  });

  it('is stored from what was read, not asked for again; the pages after it come from Graph', async () => {
    const g = graph();
    const reader = withFirstPage(g.reader, firstPageOf(url, bytes));
    const ids: string[] = [];
    for await (const page of reader.pages(url)) ids.push(...page.value.map((o) => o.id as string));
    assert.deepEqual(ids, ['a', 'b', 'c']);
    assert.deepEqual(g.asked, [next]);
  });

  it('answers as bytes once; a second read of the URL (a re-read after a failed check) goes to Graph', async () => {
    const g = graph();
    const reader = withFirstPage(g.reader, firstPageOf(url, bytes));
    assert.equal(await reader.pageBytes(url), bytes);
    await reader.pageBytes(url);
    assert.deepEqual(g.asked, [url]);
  });
});
