import type { BackupConfig } from '../../temporal.config';

/** Process-side settings a backup workflow needs, read once per run and recorded in its history. */
export function createPlanActivities(backup: BackupConfig) {
  return {
    async planBackup(): Promise<{ typeConcurrency: number }> {
      return { typeConcurrency: backup.typeConcurrency };
    },
  };
}
