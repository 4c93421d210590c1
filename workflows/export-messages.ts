import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportProgress, VerifyProgress } from '../exports/types';

// Messages of export and verify jobs, shared by the workflows, their activities and the API.

export const exportProgressQuery = defineQuery<ExportProgress>('exportProgress');
/** Sent by the export activity every few seconds: objects and zip bytes written so far. */
export const exportProgressSignal = defineSignal<[{ objects: number; bytes: number }]>('exportProgress');

export const verifyProgressQuery = defineQuery<VerifyProgress>('verifyProgress');
