/**
 * Runs in PageDigester's worker thread: parses pages of a collection and turns their items into stored forms, hashes
 * and canonical bytes, off the worker's main thread. A page's links go back as soon as it arrives (a scan of its top
 * level), and pages are digested in slices, so the next page of a sequential listing is asked for while earlier
 * pages' items are still being digested.
 */
import { parentPort } from 'node:worker_threads';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  DigestBuilder,
  parsePage,
  scanPageLinks,
  type DigestSpec,
  type DigestedItems,
  type PageLinks,
} from './page-digest';

export interface DigestRequest {
  id: number;
  body: Uint8Array;
  spec: DigestSpec;
}

export type DigestResponse =
  { id: number; links: PageLinks } | { id: number; items: DigestedItems } | { id: number; error: string };

/** Items digested between two looks at the message queue. */
const SLICE = 100;

const queue: { request: DigestRequest; scanned?: PageLinks }[] = [];
let working = false;

const post = (response: DigestResponse, transfer: ArrayBuffer[] = []) => parentPort?.postMessage(response, transfer);

parentPort?.on('message', (request: DigestRequest) => {
  const scanned = scanPageLinks(request.body);
  if (scanned) post({ id: request.id, links: scanned });
  queue.push({ request, scanned });
  if (!working) void work();
});

async function work(): Promise<void> {
  working = true;
  try {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const { id, body, spec } = job.request;
      try {
        const { links, items } = parsePage(body);
        if (!job.scanned) post({ id, links });
        else if (job.scanned.nextLink !== links.nextLink || job.scanned.deltaLink !== links.deltaLink) {
          throw new Error('the links found by scanning the page differ from the parsed ones');
        }
        const builder = new DigestBuilder(spec);
        for (let i = 0; i < items.length; i++) {
          builder.add(items[i]);
          if (i % SLICE === SLICE - 1) await nextTurn();
        }
        const digested = builder.result();
        post({ id, items: digested }, [
          digested.bytes.buffer as ArrayBuffer,
          digested.removed.buffer as ArrayBuffer,
          digested.offsets.buffer as ArrayBuffer,
        ]);
      } catch (err) {
        post({ id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  } finally {
    working = false;
  }
}
