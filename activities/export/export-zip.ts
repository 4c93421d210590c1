import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipArchive } from 'archiver';

/** Size of the blocks Coalesce hands the upload. */
const COALESCE_BYTES = 256 * 1024;

/**
 * Copies archiver's output into 256 KiB buffers before the upload sees it. Each compressed entry comes out as small
 * slices of its zlib stream's 16 KiB output buffer, and the resumable upload holds a whole chunk's worth of them
 * before sending: without the copy, 30,000 slices of ~300 bytes pinned 30,000 × 16 KiB (~450 MB), and assembling a
 * chunk from them took the upload minutes. Each slice is copied as it arrives, not when a block is full: keeping a
 * block's ~800 slices until then still pinned ~13 MB of zlib buffers, which lived long enough to reach V8's old
 * generation and stayed resident until a full collection.
 */
class Coalesce extends Transform {
  private block = Buffer.allocUnsafe(COALESCE_BYTES);
  private size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (let at = 0; at < chunk.length;) {
      const n = chunk.copy(this.block, this.size, at);
      this.size += n;
      at += n;
      if (this.size === this.block.length) this.flushBlock();
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.size > 0) this.push(this.block.subarray(0, this.size));
    this.size = 0;
    callback();
  }

  private flushBlock(): void {
    this.push(this.block);
    this.block = Buffer.allocUnsafe(COALESCE_BYTES);
    this.size = 0;
  }
}

/** Entries archiver may hold queued before `add` waits: bounds memory whatever the upload's speed. */
const MAX_QUEUED_ENTRIES = 64;
/** Spilled records are written to their temporary file in blocks of this size, and read back in the same. */
const SPILL_BLOCK_BYTES = 1024 * 1024;

/**
 * An append-only temporary file written in large blocks: what a zip must remember about every entry until its end
 * (the `SHA256SUMS` lines and the central directory's records) grows with the tenant, so it lives on disk, not in the
 * heap. A whole-tenant export of 100,000 users has a few hundred thousand entries: tens of MB of records that held
 * in memory as strings and archiver's entry objects (with their per-entry Buffers) came to several hundred MB.
 */
class SpillFile {
  private readonly fd: number;
  /**
   * Records are copied into this block as they come, never kept as Buffers of their own: a record of ~100 bytes is
   * a slice of Node's shared 8 KiB allocation pool, and a megabyte of them kept as they were pinned ~3,300 pool slabs
   * (27 MB resident at 20,000 users) until the block was written.
   */
  private readonly block = Buffer.allocUnsafeSlow(SPILL_BLOCK_BYTES);
  private size = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'w+', 0o600);
  }

  /** Appends a string's UTF-8 bytes. */
  appendText(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    if (length > this.block.length - this.size) this.flush();
    if (length > this.block.length) return this.appendBytes(Buffer.from(text, 'utf8'));
    this.size += this.block.write(text, this.size, 'utf8');
    this.bytes += length;
  }

  /** Appends a record given in parts (copied now: the caller may reuse or drop them). */
  append(...parts: Buffer[]): void {
    for (const part of parts) this.appendBytes(part);
  }

  private appendBytes(bytes: Buffer): void {
    for (let at = 0; at < bytes.length;) {
      if (this.size === this.block.length) this.flush();
      const n = bytes.copy(this.block, this.size, at);
      this.size += n;
      this.bytes += n;
      at += n;
    }
  }

  private flush(): void {
    for (let at = 0; at < this.size;) at += fs.writeSync(this.fd, this.block, at, this.size - at);
    this.size = 0;
  }

  /** Everything appended, in blocks, from the start. */
  async *read(): AsyncIterable<Buffer> {
    this.flush();
    for (let position = 0; position < this.bytes;) {
      const block = Buffer.allocUnsafe(Math.min(SPILL_BLOCK_BYTES, this.bytes - position));
      const { bytesRead } = await new Promise<{ bytesRead: number }>((resolve, reject) =>
        fs.read(this.fd, block, 0, block.length, position, (err, bytesRead) =>
          err ? reject(err) : resolve({ bytesRead }),
        ),
      );
      if (bytesRead === 0) throw new Error(`${this.path}: ended at ${position} of ${this.bytes} bytes`);
      position += bytesRead;
      yield block.subarray(0, bytesRead);
    }
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/**
 * The parts of zip-stream's engine (compress-commons' ZipArchiveOutputStream, archiver 8.0.0 / zip-stream 7.0.5 /
 * compress-commons 7.0.1, pinned in package.json) that ExportZip changes: where an appended entry is remembered
 * (`_entries`) and how the archive ends (`_finish`). A version that renamed them would fail the unit test that
 * unzips an ExportZip (test/unit/export-zip.test.ts), not produce a wrong zip silently.
 */
interface ZipEngine extends Writable {
  offset: number;
  _entries: { length: number; push(entry: unknown): void; forEach(fn: (entry: unknown) => void): void };
  _archive: { centralOffset: number; centralLength: number; finish: boolean; finished: boolean; processing: boolean };
  _finish(): void;
  _writeCentralFileHeader(entry: unknown): void;
  _writeCentralDirectoryZip64(): void;
  _writeCentralDirectoryEnd(): void;
  isZip64(): boolean;
}

/**
 * A zip streamed into `out` as entries are added, with a `SHA256SUMS` entry over every other entry written last
 * (`sha256sum -c SHA256SUMS` checks an unzipped export). Entries are Buffers: every file of an export is one
 * object's JSON, small, and hashed before it is queued. `add` waits while archiver is behind, so the process holds a
 * few dozen entries at most, never the archive. What must outlive an entry (its `SHA256SUMS` line and its central
 * directory record) is spilled to temporary files and streamed back at the end, so memory does not grow with the
 * number of entries; `finish` or `abort` removes the files.
 */
export class ExportZip {
  private readonly archive = new ZipArchive({ zlib: { level: 6 } });
  private readonly engine: ZipEngine;
  private readonly dir: string;
  private readonly sums: SpillFile;
  private readonly central: SpillFile;
  private queued = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  files = 0;

  constructor(
    private readonly out: Writable,
    /** Every entry's modification time: the snapshot's, so two builds of one export hold the same bytes. */
    private readonly date: Date,
    tmpDir: string = os.tmpdir(),
  ) {
    this.dir = fs.mkdtempSync(path.join(tmpDir, 'entra-export-'));
    this.sums = new SpillFile(path.join(this.dir, 'SHA256SUMS'));
    this.central = new SpillFile(path.join(this.dir, 'central-directory'));
    this.engine = (this.archive as unknown as { _module: { engine: ZipEngine } })._module.engine;
    this.spillCentralDirectory();
    this.archive.on('entry', () => {
      this.queued--;
      this.wake?.();
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      this.wake?.();
    };
    this.archive.on('error', fail);
    this.archive.on('warning', fail);
    out.on('error', fail);
    this.archive.pipe(new Coalesce()).pipe(out);
  }

  /**
   * The engine keeps every entry object (with its name, extra fields and offsets) for the central directory and
   * writes that directory at the end in one synchronous burst of ~16 small writes per entry, which the stream
   * buffers whole. Instead each entry's central directory record is made as soon as the entry is written (it needs
   * only the entry's offset, sizes and CRC, all known then) by the engine's own `_writeCentralFileHeader` with its
   * writes captured, and spilled; the end streams the records back with backpressure, then the engine's own
   * end-of-central-directory records. Byte for byte the zip is the one the engine would have written.
   */
  private spillCentralDirectory(): void {
    const engine = this.engine;
    const central = this.central;
    const record = (entry: unknown) => {
      const parts: Buffer[] = [];
      engine.write = ((chunk: Buffer | string) => {
        parts.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
        return true;
      }) as ZipEngine['write'];
      try {
        engine._writeCentralFileHeader(entry);
      } finally {
        delete (engine as Partial<Pick<ZipEngine, 'write'>>).write; // the prototype's write again
      }
      central.append(...parts);
    };
    engine._entries = {
      length: 0,
      push(entry: unknown) {
        record(entry);
        this.length++;
      },
      forEach: () => undefined,
    };
    engine._finish = () => {
      this.writeCentralDirectory().catch((err: Error) => {
        this.failure ??= err;
        engine.destroy(err);
      });
    };
  }

  private async writeCentralDirectory(): Promise<void> {
    const engine = this.engine;
    engine._archive.finish = true; // no entry may be added while the directory is written
    engine._archive.centralOffset = engine.offset;
    for await (const block of this.central.read()) {
      if (this.failure) throw this.failure;
      if (!engine.write(block)) await this.drained(engine);
    }
    engine._archive.centralLength = engine.offset - engine._archive.centralOffset;
    if (engine.isZip64()) engine._writeCentralDirectoryZip64();
    engine._writeCentralDirectoryEnd();
    engine._archive.processing = false;
    engine._archive.finished = true;
    engine.end();
  }

  /** Waits for `drain`, or for the zip to fail (an aborted archive never drains). */
  private drained(stream: Writable): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        clearInterval(watch);
        if (this.failure) reject(this.failure);
        else resolve();
      };
      const watch = setInterval(() => this.failure && done(), 100);
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  /** Bytes of zip produced so far. */
  get bytes(): number {
    return this.archive.pointer();
  }

  async add(name: string, body: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.sums.appendText(`${createHash('sha256').update(body).digest('hex')}  ${name}\n`);
    this.queued++;
    this.files++;
    this.archive.append(body, { name, date: this.date });
    while (this.queued > MAX_QUEUED_ENTRIES && !this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Writes SHA256SUMS, the zip's central directory, and waits until `out` has taken (uploaded) everything. */
  async finish(): Promise<void> {
    try {
      this.files++;
      this.queued++;
      this.archive.append(Readable.from(this.sums.read()), { name: 'SHA256SUMS', date: this.date });
      await this.archive.finalize();
      await finished(this.out);
      if (this.failure) throw this.failure;
    } finally {
      this.removeSpill();
    }
  }

  /** Stops the archive and fails the destination, so no partial upload is ever completed. */
  abort(reason: Error): void {
    this.failure ??= reason;
    this.archive.abort();
    this.out.destroy(reason);
    this.removeSpill();
  }

  private removeSpill(): void {
    this.sums.close();
    this.central.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
