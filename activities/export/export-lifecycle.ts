import type { Storage } from '@google-cloud/storage';
import { log } from '@temporalio/activity';
import { EXPORTS_PREFIX } from '../../exports/object-names';

/** Days after which the bucket itself deletes export objects: the 7 days a link is valid. */
const EXPORT_LIFECYCLE_AGE_DAYS = 7;

export function createExportLifecycleActivities(storage: Storage) {
  return {
    /**
     * Adds a lifecycle rule deleting objects under `exports/` after 7 days, if the bucket has none yet. A second line
     * of defence only (the cleanup workflow deletes each export on time): a bucket whose metadata the service may not
     * change (403), or a storage server without lifecycle support, is logged and left as it is.
     * https://cloud.google.com/storage/docs/lifecycle#matchesprefix-suffix
     */
    async ensureExportLifecycle(input: { bucket: string }): Promise<{ applied: boolean; detail?: string }> {
      const bucket = storage.bucket(input.bucket);
      try {
        const [metadata] = await bucket.getMetadata();
        const rules = metadata.lifecycle?.rule ?? [];
        const present = rules.some(
          (r) =>
            r.action?.type === 'Delete' &&
            (r.condition?.matchesPrefix ?? []).includes(EXPORTS_PREFIX) &&
            Number(r.condition?.age) <= EXPORT_LIFECYCLE_AGE_DAYS,
        );
        if (present) return { applied: true };
        await bucket.addLifecycleRule(
          {
            action: { type: 'Delete' },
            condition: { age: EXPORT_LIFECYCLE_AGE_DAYS, matchesPrefix: [EXPORTS_PREFIX] },
          },
          { append: true },
        );
        return { applied: true };
      } catch (err) {
        const detail = (err as Error).message;
        log.warn('export lifecycle rule not set; the cleanup workflow still deletes exports', { detail });
        return { applied: false, detail };
      }
    },

    /** Deletes everything one export wrote (the zip; nothing else is ever written under its prefix). */
    async deleteExportObjects(input: { bucket: string; prefix: string }): Promise<{ deleted: number }> {
      const [files] = await storage.bucket(input.bucket).getFiles({ prefix: input.prefix });
      for (const f of files) await f.delete({ ignoreNotFound: true });
      return { deleted: files.length };
    },
  };
}
