import type { Bucket } from '@google-cloud/storage';
import { ObjectNotFoundError } from './object-store';
import type { ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store';
import { metrics } from '../observability/metrics';
import { inSpan } from '../observability/tracing';

function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** ObjectStore over one GCS bucket and a key prefix (the tenant's storage location). */
export class GcsObjectStore implements ObjectStore {
  private readonly prefix: string;

  constructor(
    private readonly bucket: Bucket,
    prefix = '',
    /** Cloud KMS key new objects are encrypted with (CMEK); unset: the bucket's default encryption. */
    private readonly options: { kmsKeyName?: string } = {},
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  private file(key: string) {
    return this.bucket.file(
      this.prefix + key,
      this.options.kmsKeyName ? { kmsKeyName: this.options.kmsKeyName } : undefined,
    );
  }

  async put(key: string, bytes: Buffer, options: PutOptions = {}): Promise<PutResult> {
    // The key names a pack, index or record by its content hash or kind, never directory data.
    return inSpan(
      'storage.write',
      { 'storage.key_kind': key.split('/')[0], 'storage.bytes': bytes.length },
      async (span) => {
        const result = await this.write(key, bytes, options).catch((err: unknown) => {
          metrics.storageWrites.inc({ result: 'error' });
          throw err;
        });
        span.setAttribute('storage.result', result);
        metrics.storageWrites.inc({ result });
        if (result === 'written') metrics.storageBytesWritten.inc(bytes.length);
        return result;
      },
    );
  }

  private async write(key: string, bytes: Buffer, options: PutOptions): Promise<PutResult> {
    try {
      // Simple uploads get no timeout from the library (it sets 0); every other request gets the client's.
      const timeout = this.bucket.storage.timeout;
      await this.file(key).save(bytes, {
        resumable: false,
        ...(timeout ? { timeout } : {}),
        contentType: 'application/octet-stream',
        // The library only retries uploads that carry a precondition; create-only writes do, so they are retried.
        ...(options.ifGenerationMatch0 ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
      });
      return 'written';
    } catch (err) {
      // 412 on a create-only write: the key exists. Our files are named by their content, so that is success.
      if (options.ifGenerationMatch0 && httpStatus(err) === 412) return 'exists';
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await this.read(key);
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    try {
      // GCS ranges are inclusive of `end`.
      return await this.read(key, { start, end: end - 1 });
    } catch (err) {
      if (httpStatus(err) === 404) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  /**
   * `file.download()` with a deadline: the library gives a download's body none, and a body that stops arriving (the
   * emulator answered a read of an object deleted meanwhile with headers and no body) held its activity for ever.
   * The deadline is the client's request timeout without a byte received.
   */
  private read(key: string, range?: { start: number; end: number }): Promise<Buffer> {
    const idleMs = this.bucket.storage.timeout;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const stream = this.file(key).createReadStream(range ?? {});
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        if (idleMs) {
          timer = setTimeout(
            () => stream.destroy(new Error(`Reading ${key} from storage: nothing received for ${idleMs} ms`)),
            idleMs,
          );
        }
      };
      arm();
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        arm();
      });
      stream.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.once('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  async exists(key: string): Promise<boolean> {
    const [found] = await this.file(key).exists();
    return found;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.bucket.getFiles({
        prefix: this.prefix + prefix,
        autoPaginate: false,
        maxResults: 1000,
        pageToken,
      });
      for (const f of files) {
        const updated = f.metadata.updated ?? f.metadata.timeCreated;
        yield {
          key: f.name.slice(this.prefix.length),
          size: Number(f.metadata.size ?? 0),
          updated: updated ? new Date(updated) : new Date(0),
        };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async delete(key: string): Promise<void> {
    await this.file(key).delete({ ignoreNotFound: true });
  }
}
