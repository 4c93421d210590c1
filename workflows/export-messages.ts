import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportProgress } from '../exports/types';

// Messages of export jobs, shared by the workflow, its activity and the API.

export const exportProgressQuery = defineQuery<ExportProgress>('exportProgress');
/** Sent by the export activity every few seconds: objects and zip bytes written so far. */
export const exportProgressSignal = defineSignal<[{ objects: number; bytes: number }]>('exportProgress');
