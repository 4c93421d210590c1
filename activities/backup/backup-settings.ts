import { listObjectTypes } from '../../catalog';
import type { BackupConfig } from '../../temporal.config';

export interface BackupSettings {
  /** Object types captured at once. */
  typeConcurrency: number;
  /** The catalog types this backup captures. */
  types: string[];
}

/**
 * Process-side settings a backup workflow needs, read once per run and recorded in its history: how many types at
 * once, and which types this backup captures. The types come from the worker's catalog here, in an activity, and
 * never from workflow code: a worker deployed with a changed catalog then replays a running backup with the list
 * its history recorded, not a new one (which would be a different set of commands: non-determinism).
 */
export function createBackupSettingsActivities(backup: BackupConfig) {
  const decideBackupSettings = async (): Promise<BackupSettings> => ({
    typeConcurrency: backup.typeConcurrency,
    types: listObjectTypes().map((t) => t.key),
  });
  return {
    decideBackupSettings,
    /**
     * The same activity under the name backups recorded in their histories before the 'decide-backup-settings' patch
     * ('plan' read as the tenant's Backup/Archiver plan): a backup started before it replays calling this one. Drop
     * it with the patch, once no such backup can run.
     */
    planBackup: decideBackupSettings,
  };
}
