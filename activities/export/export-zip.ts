import { createHash } from 'node:crypto';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipArchive } from 'archiver';

/**
 * Copies archiver's output into 256 KiB buffers before the upload sees it. Each compressed entry comes out as small
 * slices of its zlib stream's 16 KiB output buffer, and the resumable upload holds a whole chunk's worth of them
 * (8 MiB) before sending: without the copy, 30,000 slices of ~300 bytes pinned 30,000 × 16 KiB (~450 MB), and
 * assembling a chunk from them took the upload minutes.
 */
class Coalesce extends Transform {
  private parts: Buffer[] = [];
  private size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= 256 * 1024) this.flushParts();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.flushParts();
    callback();
  }

  private flushParts(): void {
    if (this.size === 0) return;
    this.push(Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}

/** Entries archiver may hold queued before `add` waits: bounds memory whatever the upload's speed. */
const MAX_QUEUED_ENTRIES = 64;

/**
 * A zip streamed into `out` as entries are added, with a `SHA256SUMS` entry over every other entry written last
 * (`sha256sum -c SHA256SUMS` checks an unzipped export). Entries are Buffers: every file of an export is one
 * object's JSON, small, and hashed before it is queued. `add` waits while archiver is behind, so the process holds a
 * few dozen entries at most, never the archive.
 */
export class ExportZip {
  private readonly archive = new ZipArchive({ zlib: { level: 6 } });
  private readonly sums: string[] = [];
  private queued = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  files = 0;

  constructor(
    private readonly out: Writable,
    /** Every entry's modification time: the snapshot's, so two builds of one export hold the same bytes. */
    private readonly date: Date,
  ) {
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

  /** Bytes of zip produced so far. */
  get bytes(): number {
    return this.archive.pointer();
  }

  async add(name: string, body: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.sums.push(`${createHash('sha256').update(body).digest('hex')}  ${name}\n`);
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
    const sums = Buffer.from(this.sums.join(''), 'utf8');
    this.sums.length = 0;
    this.files++;
    this.queued++;
    this.archive.append(sums, { name: 'SHA256SUMS', date: this.date });
    await this.archive.finalize();
    await finished(this.out);
    if (this.failure) throw this.failure;
  }

  /** Stops the archive and fails the destination, so no partial upload is ever completed. */
  abort(reason: Error): void {
    this.failure ??= reason;
    this.archive.abort();
    this.out.destroy(reason);
  }
}
