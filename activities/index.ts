import type { Storage } from '@google-cloud/storage';
import { createStorageProbeActivities } from './storage-probe';

/** What activities need from the process that hosts them; built once per worker. */
export interface ActivityDependencies {
  storage: Storage;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createStorageProbeActivities(deps.storage),
  };
}

/** Workflows import this type only, through proxyActivities. */
export type Activities = ReturnType<typeof createActivities>;
