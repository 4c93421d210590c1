import type { GraphPage, GraphReader } from './graph-reader';

/** A listing's first page as Graph sent it (read to time it), and what it holds. */
export interface FirstPage {
  url: string;
  bytes: Uint8Array;
  objects: number;
  nextLink?: string;
}

/** Parses a first page read as bytes: its object count and next link. */
export function firstPageOf(url: string, bytes: Uint8Array): FirstPage {
  const body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) as {
    value?: unknown[];
    '@odata.nextLink'?: unknown;
  };
  const next = body['@odata.nextLink'];
  return {
    url,
    bytes,
    objects: Array.isArray(body.value) ? body.value.length : 0,
    ...(typeof next === 'string' ? { nextLink: next } : {}),
  };
}

/**
 * `graph` whose first read of `first.url` (as bytes or as pages) answers the page already read, so the page read to
 * time the listing (and decide how to read it) is stored rather than asked for twice. Later reads of the URL (a
 * re-read after a failed check) go to Graph.
 */
export function withFirstPage(graph: GraphReader, first: FirstPage): GraphReader {
  let used = false;
  const take = (url: string) => {
    if (used || url !== first.url) return false;
    used = true;
    return true;
  };
  return {
    ...graph,
    pageBytes: (url) => (take(url) ? Promise.resolve(first.bytes) : graph.pageBytes(url)),
    pages: (url, options) => {
      if (!take(url)) return graph.pages(url, options);
      return (async function* (): AsyncGenerator<GraphPage> {
        const body = JSON.parse(Buffer.from(first.bytes).toString('utf8')) as Record<string, unknown>;
        const nextLink = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
        const deltaLink = typeof body['@odata.deltaLink'] === 'string' ? body['@odata.deltaLink'] : undefined;
        yield { value: (body.value as Record<string, unknown>[] | undefined) ?? [], nextLink, deltaLink };
        if (nextLink) yield* graph.pages(nextLink, options);
      })();
    },
  };
}
