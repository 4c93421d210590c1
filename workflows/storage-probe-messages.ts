import { defineQuery } from '@temporalio/workflow';

// The storage probe workflow's messages, shared by the workflow and the API (diagnostics).

export type StorageProbeStatus = 'writing' | 'holding' | 'verifying' | 'completed' | 'failed';

export const storageProbeStatusQuery = defineQuery<StorageProbeStatus>('storageProbeStatus');
