import { randomUUID } from 'node:crypto';
import type { Storage } from '@google-cloud/storage';
import type { AuditEntry, AuditLog } from '../../accounts/types';
import { auditPrefix } from '../../storage/locations';

/** Entries without a reseller (operator, system, unauthenticated callers) are kept under this folder. */
export const unattributedFolder = '_unattributed';

/**
 * The audit trail as objects in the backup store: one create-only object per entry,
 * `audit/{resellerId}/{ISO time}-{uuid}.json`, so entries are never rewritten, two API replicas never contend, and
 * names sort by time. A bucket retention policy (or object hold) makes them tamper-proof in production.
 */
export class StorageAuditLog implements AuditLog {
  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const name = `${this.folder(entry.resellerId)}${entry.at}-${randomUUID()}.json`;
    await this.storage
      .bucket(this.bucket)
      .file(name)
      .save(JSON.stringify(entry), {
        contentType: 'application/json',
        resumable: false,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
  }

  /** Newest first. */
  async list(resellerId: string, options: { limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const [files] = await this.storage.bucket(this.bucket).getFiles({ prefix: this.folder(resellerId) });
    const newest = files
      .map((f) => f.name)
      .sort()
      .reverse()
      .slice(0, limit);
    return Promise.all(
      newest.map(async (name) => {
        const [content] = await this.storage.bucket(this.bucket).file(name).download();
        return JSON.parse(content.toString('utf8')) as AuditEntry;
      }),
    );
  }

  private folder(resellerId: string | undefined): string {
    // storage/locations.ts reserves the prefix: no tenant's repository can overlap it.
    return auditPrefix(resellerId ?? unattributedFolder);
  }
}
