import { listObjectTypes } from '../../catalog';
import type { BackupConfig } from '../../temporal.config';

/**
 * Process-side settings a backup workflow needs, read once per run and recorded in its history: how many types at
 * once, and which types this backup captures. The types come from the worker's catalog here, in an activity, and
 * never from workflow code: a worker deployed with a changed catalog then replays a running backup with the list
 * its history recorded, not a new one (which would be a different set of commands: non-determinism).
 */
export function createPlanActivities(backup: BackupConfig) {
  return {
    async planBackup(): Promise<{ typeConcurrency: number; types: string[] }> {
      return { typeConcurrency: backup.typeConcurrency, types: listObjectTypes().map((t) => t.key) };
    },
  };
}
