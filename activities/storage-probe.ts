import type { Storage } from '@google-cloud/storage';

export interface ProbeObject {
  bucket: string;
  key: string;
}

/**
 * The activities behind the storage probe: the smallest end-to-end proof that a worker can reach the object store
 * the backups go to. Both are idempotent: writing the same probe twice leaves one object with the same content.
 */
export function createStorageProbeActivities(storage: Storage) {
  return {
    async writeProbeObject(input: ProbeObject & { workflowId: string }): Promise<{ bytes: number }> {
      const body = JSON.stringify({ kind: 'entra-backup.storage-probe', workflowId: input.workflowId });
      await storage
        .bucket(input.bucket)
        .file(input.key)
        .save(body, { contentType: 'application/json', resumable: false });
      return { bytes: Buffer.byteLength(body) };
    },

    async verifyProbeObject(input: ProbeObject & { workflowId: string }): Promise<boolean> {
      const [content] = await storage.bucket(input.bucket).file(input.key).download();
      const parsed = JSON.parse(content.toString('utf8')) as { workflowId?: string };
      return parsed.workflowId === input.workflowId;
    },
  };
}
