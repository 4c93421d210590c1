import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sealCompressed, type SealPurpose } from './crypto';
import type { SealRequest, SealResponse } from './seal-thread';

interface Pending {
  key: Buffer;
  purpose: SealPurpose;
  plaintext: Buffer;
  resolve: (sealed: Buffer) => void;
  reject: (err: Error) => void;
}

/** Objects sent to a thread in one message at most. */
const MAX_BATCH = 256;
/** Threads end after this long without work (and start again when needed): an idle pool never holds a process. */
const IDLE_MS = 2_000;

/**
 * Compresses and encrypts blobs in worker threads. Storing a 100,000-user tenant spends most of its CPU here
 * (gzip and AES-GCM per object); on the main thread that work was the limit of a backup's speed. Requests made in
 * the same turn of the event loop go out as one message per thread; results come back in order. With zero threads
 * (or when a thread cannot start) blobs are sealed on the calling thread, as before.
 */
export class SealPool {
  private readonly threads: Worker[] = [];
  private readonly waiting = new Map<number, Pending[]>();
  private queue: Pending[] = [];
  private nextId = 0;
  private nextThread = 0;
  private scheduled = false;
  private broken = false;
  private readonly stopping = new Set<Worker>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Blobs sealed in threads and on the calling thread. */
  readonly stats = { inThreads: 0, onCaller: 0 };

  constructor(private readonly size: number) {}

  seal(key: Buffer, purpose: SealPurpose, plaintext: Buffer): Promise<Buffer> {
    if (this.size <= 0 || this.broken) return Promise.resolve(this.sealHere(key, purpose, plaintext));
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ key, purpose, plaintext, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  /** Ends the threads; blobs sealed afterwards are sealed on the calling thread. */
  async close(): Promise<void> {
    this.broken = true;
    clearTimeout(this.idleTimer);
    await Promise.all(this.threads.splice(0).map((t) => this.stop(t)));
  }

  private stopIdle(): void {
    if (this.waiting.size > 0 || this.queue.length > 0) return;
    for (const t of this.threads.splice(0)) void this.stop(t);
  }

  private async stop(thread: Worker): Promise<void> {
    this.stopping.add(thread);
    await thread.terminate();
  }

  private sealHere(key: Buffer, purpose: SealPurpose, plaintext: Buffer): Buffer {
    this.stats.onCaller++;
    return sealCompressed(key, purpose, plaintext);
  }

  private dispatch(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    while (queue.length > 0) {
      const first = queue[0];
      // One message carries one key and purpose (a writer's blobs); others wait for the next message.
      let n = 1;
      while (n < queue.length && n < MAX_BATCH && queue[n].key === first.key && queue[n].purpose === first.purpose) n++;
      this.send(queue.splice(0, n));
    }
  }

  private send(batch: Pending[]): void {
    clearTimeout(this.idleTimer);
    const thread = this.thread();
    if (!thread) {
      for (const p of batch) p.resolve(this.sealHere(p.key, p.purpose, p.plaintext));
      return;
    }
    const id = this.nextId++;
    this.waiting.set(id, batch);
    const request: SealRequest = {
      id,
      key: batch[0].key,
      purpose: batch[0].purpose,
      items: batch.map((p) => p.plaintext),
    };
    thread.postMessage(request);
  }

  private thread(): Worker | undefined {
    if (this.broken) return undefined;
    if (this.threads.length < this.size) {
      try {
        this.threads.push(this.start());
      } catch {
        this.broken = true;
        return undefined;
      }
    }
    return this.threads[this.nextThread++ % this.threads.length];
  }

  private start(): Worker {
    // Registers tsx inside the thread: the process may have loaded it in-process (mocha) rather than by --import.
    const entry = path.join(__dirname, 'seal-thread.ts');
    const thread = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
      eval: true,
      // It holds one batch at a time: a small heap keeps the worker process within its memory budget.
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
    });
    thread.unref();
    thread.on('message', (response: SealResponse) => {
      const batch = this.waiting.get(response.id);
      if (!batch) return;
      this.waiting.delete(response.id);
      if (response.error || !response.sealed) {
        const err = new Error(`sealing failed in a worker thread: ${response.error ?? 'no result'}`);
        for (const p of batch) p.reject(err);
        return;
      }
      this.stats.inThreads += batch.length;
      if (this.waiting.size === 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => this.stopIdle(), IDLE_MS);
        this.idleTimer.unref();
      }
      response.sealed.forEach((u, i) => batch[i].resolve(Buffer.from(u.buffer, u.byteOffset, u.byteLength)));
    });
    thread.on('error', (err) => this.fail(thread, err));
    thread.on('exit', (code) => {
      if (this.stopping.delete(thread)) return;
      if (code !== 0) this.fail(thread, new Error(`seal thread exited with code ${code}`));
    });
    return thread;
  }

  /** A thread died: what it held is sealed again on this thread, and no new threads are started. */
  private fail(thread: Worker, err: Error): void {
    this.broken = true;
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads.splice(i, 1);
    for (const [id, batch] of this.waiting) {
      this.waiting.delete(id);
      for (const p of batch) {
        try {
          p.resolve(this.sealHere(p.key, p.purpose, p.plaintext));
        } catch {
          p.reject(err);
        }
      }
    }
  }
}
