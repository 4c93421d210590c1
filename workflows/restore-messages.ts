import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RestoreState } from '../restore/types';

// Messages of restore jobs, shared by the workflow and the API.

export const restoreStateQuery = defineQuery<RestoreState>('restoreState');

export interface RestoreConfirmation {
  planHash: string;
  /** Principal label of who confirmed (audit). */
  confirmedBy: string;
}
export const confirmRestoreUpdate = defineUpdate<RestoreState, [RestoreConfirmation]>('confirmRestore');

export interface RestoreCancellation {
  /** Principal label of who cancelled (audit). */
  cancelledBy: string;
}
/**
 * Cancels a plan waiting for its confirmation (the portal's Cancel): the restore ends as `cancelled` without a write.
 * Once confirmed, a restore cannot be cancelled: stopping between writes would leave the tenant half restored.
 */
export const cancelRestoreUpdate = defineUpdate<RestoreState, [RestoreCancellation]>('cancelRestore');
