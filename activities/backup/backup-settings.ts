import type { BackupConfig } from '../../temporal.config';

export interface BackupSettings {
  /** Object types captured at once. */
  typeConcurrency: number;
}

/** Process-side settings a backup workflow needs, read once per run and recorded in its history. */
export function createBackupSettingsActivities(backup: BackupConfig) {
  const decideBackupSettings = async (): Promise<BackupSettings> => ({ typeConcurrency: backup.typeConcurrency });
  return {
    decideBackupSettings,
    /**
     * The same activity under the name workflows have recorded in their histories so far ('plan' read as the
     * tenant's Backup/Archiver plan). Kept while workflow code still calls it: renaming an activity a workflow calls
     * changes its history, so the switch belongs with a versioning patch in the workflow.
     */
    planBackup: decideBackupSettings,
  };
}
