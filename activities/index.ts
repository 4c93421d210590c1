import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../temporal.config';
import { createStorageProbeActivities } from './storage-probe';
import { createConsentActivities } from './consent';
import { createScheduleActivities } from './schedules';
import { createTenantAccessActivities } from './tenant-access';
import { TokenProvider } from './graph/token-provider';
import { Repositories } from './backup/repositories';
import { createCaptureActivities } from './backup/capture-type';
import { createSnapshotActivities } from './backup/snapshot';
import { createRetentionActivities } from './backup/retention';
import { createBackupSettingsActivities } from './backup/backup-settings';
import { createGraphReader } from './backup/tenant-graph-reader';
import { PageDigester } from './backup/page-digester';
import { createBuildExportActivity } from './export/build-export';
import { createExportLifecycleActivities } from './export/export-lifecycle';
import { createVerifyActivities } from './verify/verify-repository';
import { createRestoreActivities } from './restore';
import { meteredCapture, meteredConsent } from './metered';

/** What activities need from the process that hosts them; built once per worker. */
export interface ActivityDependencies {
  config: AppConfig;
  storage: Storage;
  /** For activities that manage schedules and signal workflows. */
  temporal: Client;
}

export function createActivities(deps: ActivityDependencies) {
  const { config } = deps;
  const tokens = new TokenProvider(config.entra);
  const repositories = new Repositories(deps.storage, config.storage.masterKey);
  const consent = createConsentActivities(config.entra, tokens);
  const capture = createCaptureActivities({
    repositories,
    graphFor: (directory) => createGraphReader(config.entra, tokens, directory),
    fullReadEvery: config.backup.fullReadEvery,
    auditLog: {
      retentionMs: config.backup.auditLogRetentionDays * 86_400_000,
      latencyMarginMs: config.backup.auditLogLatencySeconds * 1000,
    },
    checkpointEverySeconds: config.backup.checkpointSeconds,
    digester: new PageDigester(config.backup.digestThreads),
    partitioning: config.backup.partitionedListing,
  });
  return {
    ...createStorageProbeActivities(deps.storage),
    ...consent,
    verifyConsent: meteredConsent(consent.verifyConsent),
    ...createScheduleActivities(deps.temporal, config),
    ...createTenantAccessActivities(config.entra, tokens),
    ...createBackupSettingsActivities(config.backup),
    captureType: meteredCapture(capture.captureType),
    ...createSnapshotActivities(repositories),
    ...createRetentionActivities(repositories, deps.temporal, config.backup.retentionDays),
    ...createBuildExportActivity({ repositories, storage: deps.storage, temporal: deps.temporal }),
    ...createExportLifecycleActivities(deps.storage),
    ...createVerifyActivities(repositories),
    ...createRestoreActivities({
      entra: config.entra,
      tokens,
      storage: deps.storage,
      masterKey: config.storage.masterKey,
      temporal: deps.temporal,
    }),
  };
}

/** Workflows import this type only, through proxyActivities. */
export type Activities = ReturnType<typeof createActivities>;
