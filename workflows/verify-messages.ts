import { defineQuery } from '@temporalio/workflow';
import type { VerifyProgress } from '../exports/types';

// Messages of verify jobs, shared by the workflow and the API.

export const verifyProgressQuery = defineQuery<VerifyProgress>('verifyProgress');
