import { Router } from 'express';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { searchAttributeNames } from '../../temporal.config';
import { backupProgressQuery, exportProgressQuery, type BackupProgress } from '../../workflows';
import type { ExportProgress } from '../../exports/types';
import { requireReseller, resellerOf } from '../auth';

const KINDS = ['backup', 'retention', 'export', 'verify', 'restore'] as const;
/** Jobs of a page described at once (each may be a query or a history read). */
const DESCRIBE_CONCURRENCY = 8;

/**
 * The System Status view: the reseller's backup and retention jobs, newest first, from Temporal's visibility store
 * (the same search attributes the Web UI filters on), with live progress for running backups.
 */
export function jobRoutes(deps: { client: Client }): Router {
  const router = Router();
  router.get('/jobs', requireReseller, async (req, res) => {
    const { resellerId } = resellerOf(res);
    const q = req.query as {
      tenantId?: string;
      kind?: (typeof KINDS)[number];
      status?: 'running' | 'completed' | 'failed';
      limit?: number;
    };
    const clauses = [`${searchAttributeNames.resellerId} = '${resellerId}'`];
    clauses.push(
      q.kind
        ? `${searchAttributeNames.jobKind} = '${q.kind}'`
        : `${searchAttributeNames.jobKind} IN (${KINDS.map((k) => `'${k}'`).join(', ')})`,
    );
    if (q.tenantId) clauses.push(`${searchAttributeNames.tenantId} = '${q.tenantId}'`);
    if (q.status)
      clauses.push(
        `ExecutionStatus = '${q.status === 'running' ? 'Running' : q.status === 'completed' ? 'Completed' : 'Failed'}'`,
      );
    const limit = q.limit ?? 50;
    const executions: WorkflowExecutionInfo[] = [];
    // Visibility lists newest first already; ORDER BY is not supported by every visibility store (SQLite). Only the
    // page asked for is read, and only its running jobs are queried (see describeJob).
    for await (const execution of deps.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      executions.push(execution);
      if (executions.length >= limit) break;
    }
    const jobs: Awaited<ReturnType<typeof describeJob>>[] = [];
    // A few at a time: a page's queries overlap without all hitting the workers at once.
    for (let i = 0; i < executions.length; i += DESCRIBE_CONCURRENCY) {
      const slice = executions.slice(i, i + DESCRIBE_CONCURRENCY);
      jobs.push(...(await Promise.all(slice.map((e) => describeJob(deps.client, e)))));
    }
    res.json({ jobs });
  });
  return router;
}

/** JobStatus values that mean the job is over; any other value on a closed execution is stale. */
const FINAL_JOB_STATUSES = new Set([
  'completed',
  'incomplete',
  'failed',
  'cancelled',
  'reauthorization-required',
  // verify
  'ok',
  'damaged',
  // restore
  'partly-completed',
  'expired',
  'refused',
]);

async function describeJob(client: Client, e: WorkflowExecutionInfo) {
  const attrs = e.searchAttributes as Record<string, unknown[] | undefined>;
  const first = (name: string) => attrs[name]?.[0] as string | undefined;
  let progress: BackupProgress | ExportProgress | undefined;
  if (e.type === 'tenantBackupWorkflow' && e.status.name === 'RUNNING') {
    progress = await client.workflow
      .getHandle(e.workflowId, e.runId)
      .query(backupProgressQuery)
      .catch(() => undefined);
  }
  // Exports show objects and bytes written, finished ones too (what the zip holds): a finished export's are in its
  // memo; only running ones, and finished ones from before the memo (workflows/export.ts), are asked.
  const memoProgress = e.memo?.progress as ExportProgress | undefined;
  if (e.type === 'exportWorkflow' && memoProgress) progress = memoProgress;
  else if (e.type === 'exportWorkflow') {
    progress = await client.workflow
      .getHandle(e.workflowId, e.runId)
      .query(exportProgressQuery)
      .catch(() => undefined);
  }
  const { status, reason } = await finalStatus(client, e, first(searchAttributeNames.jobStatus));
  return {
    workflowId: e.workflowId,
    kind: first(searchAttributeNames.jobKind),
    tenantId: first(searchAttributeNames.tenantId),
    status,
    ...(reason ? { reason } : {}),
    temporalStatus: e.status.name,
    startedAt: e.startTime.toISOString(),
    closedAt: e.closeTime?.toISOString(),
    ...(progress ? { progress } : {}),
  };
}

/**
 * The job's true state. A running execution shows its own JobStatus. A closed one shows its JobStatus only when
 * that is a final value agreeing with how the execution ended; otherwise (terminated, timed out, or a JobStatus
 * left at a running value by a run that could not set it) the execution's status, with the reason from history.
 */
async function finalStatus(
  client: Client,
  e: WorkflowExecutionInfo,
  jobStatus: string | undefined,
): Promise<{ status: string; reason?: string }> {
  const execution = e.status.name;
  const memoReason = typeof e.memo?.reason === 'string' ? e.memo.reason : undefined;
  if (execution === 'RUNNING') return { status: jobStatus ?? 'running' };
  const agrees =
    jobStatus !== undefined &&
    FINAL_JOB_STATUSES.has(jobStatus) &&
    (execution === 'COMPLETED'
      ? jobStatus !== 'failed' && jobStatus !== 'cancelled'
      : execution === 'FAILED'
        ? jobStatus === 'failed'
        : execution === 'CANCELLED' && jobStatus === 'cancelled');
  if (agrees) return { status: jobStatus, reason: memoReason };
  const status = execution === 'CANCELLED' ? 'cancelled' : execution.toLowerCase().replace(/_/g, '-');
  return { status, reason: memoReason ?? (await reasonFromHistory(client, e)) };
}

/** Why a workflow ended as it did, from its closing event (terminated: the operator's reason; failed: the failure). */
async function reasonFromHistory(client: Client, e: WorkflowExecutionInfo): Promise<string | undefined> {
  try {
    const history = await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
    const last = history.events?.at(-1);
    if (!last) return undefined;
    if (last.workflowExecutionTerminatedEventAttributes)
      return `terminated: ${last.workflowExecutionTerminatedEventAttributes.reason || 'no reason given'}`;
    if (last.workflowExecutionFailedEventAttributes?.failure)
      return last.workflowExecutionFailedEventAttributes.failure.message ?? undefined;
    if (last.workflowExecutionTimedOutEventAttributes) return 'the workflow ran past its execution timeout';
    if (last.workflowExecutionCanceledEventAttributes) return 'cancelled';
    return undefined;
  } catch {
    return undefined;
  }
}
