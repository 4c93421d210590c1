import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../temporal.config';
import { createStorageProbeActivities } from './storage-probe';
import { createConsentActivities } from './consent';
import { createScheduleActivities } from './schedules';
import { createTenantAccessActivities } from './tenant-access';
import { TokenProvider } from './graph/token-provider';

/** What activities need from the process that hosts them; built once per worker. */
export interface ActivityDependencies {
  config: AppConfig;
  storage: Storage;
  /** For activities that manage schedules and signal workflows. */
  temporal: Client;
}

export function createActivities(deps: ActivityDependencies) {
  const tokens = new TokenProvider(deps.config.entra);
  return {
    ...createStorageProbeActivities(deps.storage),
    ...createConsentActivities(deps.config.entra, tokens),
    ...createScheduleActivities(deps.temporal, deps.config),
    ...createTenantAccessActivities(deps.config.entra, tokens),
  };
}

/** Workflows import this type only, through proxyActivities. */
export type Activities = ReturnType<typeof createActivities>;
