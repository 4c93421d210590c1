import { ApplicationFailure, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { VerifyProgress, VerifyReport, VerifyRequest } from '../exports/types';
import { workflowTuning } from '../workflow-constants';
import { jobStatusKey } from '../temporal/search-attributes';
import { verifyProgressQuery } from './verify-messages';

const { verifyRepository } = proxyActivities<Activities>({
  startToCloseTimeout: workflowTuning.pagingActivity.startToCloseTimeout,
  heartbeatTimeout: workflowTuning.pagingActivity.heartbeatTimeout,
  retry: workflowTuning.pagingActivity.retry,
});

/**
 * Verify (like `restic check --read-data`): re-reads a snapshot, or the whole repository, and reports every blob that
 * fails its hash. A damaged repository is a completed job with `ok: false` and JobStatus `damaged`, not a failure:
 * the check itself worked, and its report is the result.
 */
export async function verifyWorkflow(req: VerifyRequest): Promise<VerifyReport> {
  const progress: VerifyProgress = { status: 'running' };
  setHandler(verifyProgressQuery, () => progress);
  upsertSearchAttributes([{ key: jobStatusKey, value: 'running' }]);
  let report: VerifyReport;
  try {
    report = await verifyRepository(req);
  } catch (err) {
    upsertSearchAttributes([{ key: jobStatusKey, value: 'failed' }]);
    throw ApplicationFailure.create({ type: 'VerifyFailed', message: (err as Error).message, nonRetryable: true });
  }
  progress.status = report.ok ? 'ok' : 'damaged';
  progress.report = report;
  upsertSearchAttributes([{ key: jobStatusKey, value: progress.status }]);
  return report;
}
