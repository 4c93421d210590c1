import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { digestItems, parsePage, type DigestSpec, type DigestedItems, type PageLinks } from './page-digest';
import type { DigestRequest, DigestResponse } from './page-thread';

/** A page being digested: its links come first (the next page can be asked for), its items when they are ready. */
export interface PageDigest {
  links: Promise<PageLinks>;
  items: Promise<DigestedItems>;
}

interface Pending {
  links: { resolve: (links: PageLinks) => void; reject: (err: Error) => void; settled: boolean };
  items: { resolve: (items: DigestedItems) => void; reject: (err: Error) => void };
}

/** The thread ends after this long without work (and starts again when needed): an idle one never holds a process. */
const IDLE_MS = 2_000;

/**
 * Parses pages of collections and digests their items in a worker thread. Storing a 100,000-user tenant was bound by
 * the worker's main thread, which also receives every Graph answer and runs every other type's storing: parsing a
 * page of 999 users and building each one's canonical JSON and SHA-256 was ~40 us per user of it. With the thread
 * unavailable (or `threads` 0) pages are digested on the calling thread, with the same result.
 */
export class PageDigester {
  private thread: Worker | undefined;
  private broken = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Pages digested in the thread and on the calling thread. */
  readonly stats = { inThread: 0, onCaller: 0 };

  constructor(private readonly threads = 1) {}

  /** `body` is the page's JSON; its buffer is transferred to the thread (the caller must not use it afterwards). */
  digest(body: Uint8Array, spec: DigestSpec): PageDigest {
    const thread = this.ensureThread();
    if (!thread) return this.digestHere(body, spec);
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    let linksSide!: Pending['links'];
    let itemsSide!: Pending['items'];
    const links = new Promise<PageLinks>((resolve, reject) => (linksSide = { resolve, reject, settled: false }));
    const items = new Promise<DigestedItems>((resolve, reject) => (itemsSide = { resolve, reject }));
    // Awaited by the caller in its own time; not unhandled if the caller stops first.
    links.catch(() => undefined);
    items.catch(() => undefined);
    this.pending.set(id, { links: linksSide, items: itemsSide });
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const message: DigestRequest = { id, body: own ? body : body.slice(), spec };
    thread.postMessage(message, [message.body.buffer as ArrayBuffer]);
    this.stats.inThread++;
    return { links, items };
  }

  /** Ends the thread; pages digested afterwards are digested on the calling thread. */
  async close(): Promise<void> {
    this.broken = true;
    clearTimeout(this.idleTimer);
    const thread = this.thread;
    this.thread = undefined;
    await thread?.terminate();
  }

  private digestHere(body: Uint8Array, spec: DigestSpec): PageDigest {
    this.stats.onCaller++;
    try {
      const page = parsePage(body);
      return { links: Promise.resolve(page.links), items: Promise.resolve(digestItems(page.items, spec)) };
    } catch (err) {
      const failed = Promise.reject(err as Error);
      failed.catch(() => undefined);
      return { links: failed, items: failed as Promise<never> };
    }
  }

  private ensureThread(): Worker | undefined {
    if (this.threads <= 0 || this.broken) return undefined;
    if (this.thread) return this.thread;
    try {
      this.thread = this.start();
    } catch {
      this.broken = true;
    }
    return this.thread;
  }

  private start(): Worker {
    // Registers tsx inside the thread: the process may have loaded it in-process (mocha) rather than by --import.
    const entry = path.join(__dirname, 'page-thread.ts');
    const thread = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
      eval: true,
      // It holds one page at a time (a few MB parsed): a small heap keeps the worker process within its memory budget.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
    });
    thread.unref();
    thread.on('message', (response: DigestResponse) => this.answer(response));
    thread.on('error', (err) => this.fail(thread, err));
    thread.on('exit', (code) => this.fail(thread, new Error(`the page digest thread exited (${code})`)));
    return thread;
  }

  private answer(response: DigestResponse): void {
    const entry = this.pending.get(response.id);
    if (!entry) return;
    if ('links' in response) {
      entry.links.settled = true;
      entry.links.resolve(response.links);
      return;
    }
    this.pending.delete(response.id);
    if ('items' in response) entry.items.resolve(response.items);
    else {
      const err = new Error(`digesting a page failed: ${response.error}`);
      if (!entry.links.settled) entry.links.reject(err);
      entry.items.reject(err);
    }
    if (this.pending.size === 0) this.idleTimer = setTimeout(() => this.stopIdle(), IDLE_MS).unref();
  }

  private stopIdle(): void {
    if (this.pending.size > 0 || !this.thread) return;
    const thread = this.thread;
    this.thread = undefined;
    thread.removeAllListeners('exit');
    void thread.terminate();
  }

  /** The thread died: what it held fails (the activity attempt retries), and later pages are digested here. */
  private fail(thread: Worker, err: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.broken = true;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (!entry.links.settled) entry.links.reject(err);
      entry.items.reject(err);
    }
  }
}
