import type { Bucket } from '@google-cloud/storage';
import {
  ObjectNotFoundError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from './object-store';

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
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  private file(key: string) {
    return this.bucket.file(this.prefix + key);
  }

  async put(key: string, bytes: Buffer, options: PutOptions = {}): Promise<PutResult> {
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
      const [bytes] = await this.file(key).download();
      return bytes;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    try {
      // GCS ranges are inclusive of `end`.
      const [bytes] = await this.file(key).download({ start, end: end - 1 });
      return bytes;
    } catch (err) {
      if (httpStatus(err) === 404) throw new ObjectNotFoundError(key);
      throw err;
    }
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
