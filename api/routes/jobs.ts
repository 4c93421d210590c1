import { Router } from 'express';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { searchAttributeNames } from '../../temporal.config';
import { backupProgressQuery, exportProgressQuery, type BackupProgress } from '../../workflows';
import type { ExportProgress } from '../../exports/types';
import { tenantListMemoKey, type TenantListEntry } from '../../tenants/list-entry';
import { requireReseller, resellerOf } from '../auth';

const KINDS = ['backup', 'retention', 'export', 'verify', 'restore'] as const;
type Kind = (typeof KINDS)[number] | 'onboarding';
/** A tenant added this recently shows its onboarding on System Status once done, as a completed job. */
const RECENT_ONBOARDING_MS = 24 * 60 * 60 * 1000;
/** Jobs of a page described at once (each may be a query or a history read). */
const DESCRIBE_CONCURRENCY = 8;

/**
 * The System Status view: the reseller's jobs, running first, then newest first, from Temporal's visibility store
 * (the same search attributes the Web UI filters on), with live progress for running backups and exports.
 *
 * Onboarding (consent) has no workflow of its own: it is a phase of the tenant's long-lived workflow. It shows as an
 * `onboarding` job while the tenant awaits consent or reauthorization, and as completed for a day after a tenant added
 * in the last day became active; read from the tenant workflow's list memo, never by a query per tenant.
 */
export function jobRoutes(deps: { client: Client }): Router {
  const router = Router();
  router.get('/jobs', requireReseller, async (req, res) => {
    const { resellerId } = resellerOf(res);
    const q = req.query as {
      tenantId?: string;
      kind?: Kind;
      status?: 'running' | 'completed' | 'failed';
      limit?: number;
    };
    const owner = [`${searchAttributeNames.resellerId} = '${resellerId}'`];
    if (q.tenantId) owner.push(`${searchAttributeNames.tenantId} = '${q.tenantId}'`);
    const limit = q.limit ?? 50;

    const workflowJobs = async () => {
      if (q.kind === 'onboarding') return [];
      const clauses = [...owner];
      clauses.push(
        q.kind
          ? `${searchAttributeNames.jobKind} = '${q.kind}'`
          : `${searchAttributeNames.jobKind} IN (${KINDS.map((k) => `'${k}'`).join(', ')})`,
      );
      if (q.status)
        clauses.push(
          `ExecutionStatus = '${q.status === 'running' ? 'Running' : q.status === 'completed' ? 'Completed' : 'Failed'}'`,
        );
      const executions: WorkflowExecutionInfo[] = [];
      // Visibility lists running first, then newest first; ORDER BY is not supported by every store (SQLite). Only
      // the page asked for is read, and only its running jobs are queried (see describeJob).
      for await (const execution of deps.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
        executions.push(execution);
        if (executions.length >= limit) break;
      }
      const jobs: JobView[] = [];
      // A few at a time: a page's queries overlap without all hitting the workers at once.
      for (let i = 0; i < executions.length; i += DESCRIBE_CONCURRENCY) {
        const slice = executions.slice(i, i + DESCRIBE_CONCURRENCY);
        jobs.push(...(await Promise.all(slice.map((e) => describeJob(deps.client, e)))));
      }
      return jobs;
    };
    const onboardingJobs = async () => {
      if (q.kind && q.kind !== 'onboarding') return [];
      const since = new Date(Date.now() - RECENT_ONBOARDING_MS).toISOString();
      const clauses = [
        ...owner,
        `${searchAttributeNames.jobKind} = 'tenant'`,
        `ExecutionStatus = 'Running'`,
        `(${searchAttributeNames.jobStatus} IN ('awaiting-consent', 'reauthorization-required') OR StartTime > '${since}')`,
      ];
      const jobs = [];
      for await (const execution of deps.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
        const job = onboardingJob(execution);
        if (job && (!q.status || job.state === q.status)) jobs.push(job.job);
        if (jobs.length >= limit) break;
      }
      return jobs;
    };
    const [workflows, onboarding] = await Promise.all([workflowJobs(), onboardingJobs()]);
    // Running (closedAt unset) first, then by start, newest first: the order visibility gives each list.
    const jobs = [...workflows, ...onboarding]
      .sort((a, b) => Number(!!a.closedAt) - Number(!!b.closedAt) || b.startedAt.localeCompare(a.startedAt))
      .slice(0, limit);
    res.json({ jobs });
  });
  return router;
}

/** One job as `GET /jobs` answers it (the OpenAPI document's `Job`). */
interface JobView {
  workflowId: string;
  kind?: string;
  tenantId?: string;
  status: string;
  reason?: string;
  temporalStatus: string;
  startedAt: string;
  closedAt?: string;
  expiresAt?: string;
  progress?: BackupProgress | ExportProgress;
}

/** A tenant workflow as its onboarding job, from its list memo; undefined when it has none (not yet written). */
function onboardingJob(e: WorkflowExecutionInfo): { state: 'running' | 'completed'; job: JobView } | undefined {
  const entry = e.memo?.[tenantListMemoKey] as TenantListEntry | undefined;
  if (!entry) return undefined;
  const base = {
    workflowId: e.workflowId,
    kind: 'onboarding',
    tenantId: entry.tenantId,
    temporalStatus: e.status.name,
    startedAt: entry.createdAt,
  };
  if (entry.status === 'awaiting-consent') {
    const expires = entry.backupApp.requestExpiresAt;
    return {
      state: 'running',
      job: {
        ...base,
        status: 'awaiting-consent',
        reason:
          entry.backupApp.state === 'pending'
            ? `waiting for an admin of ${entry.directory} to sign in with Microsoft and grant consent`
            : (entry.backupApp.reason ?? `no consent requested yet for ${entry.directory}: Sign in with Microsoft`),
        ...(expires ? { expiresAt: expires } : {}),
      },
    };
  }
  if (entry.status === 'reauthorization-required') {
    return {
      state: 'running',
      job: {
        ...base,
        status: 'reauthorization-required',
        reason: `${entry.reason ?? 'the consent is no longer usable'}: an admin must consent again (Update now)`,
      },
    };
  }
  return {
    state: 'completed',
    job: {
      ...base,
      status: 'completed',
      reason: `consent granted for ${entry.directory}`,
      ...(entry.backupApp.grantedAt ? { closedAt: entry.backupApp.grantedAt } : {}),
    },
  };
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

async function describeJob(client: Client, e: WorkflowExecutionInfo): Promise<JobView> {
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
  const { status, reason } = await finalStatus(
    client,
    e,
    first(searchAttributeNames.jobStatus),
    first(searchAttributeNames.jobKind),
  );
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
  kind: string | undefined,
): Promise<{ status: string; reason?: string }> {
  const execution = e.status.name;
  const memoReason = typeof e.memo?.reason === 'string' ? e.memo.reason : undefined;
  if (execution === 'RUNNING') return { status: jobStatus ?? 'running' };
  const agrees =
    jobStatus !== undefined &&
    FINAL_JOB_STATUSES.has(jobStatus) &&
    (execution === 'COMPLETED'
      ? // A restore cancelled before its confirmation ends normally; other jobs end cancelled as executions.
        jobStatus !== 'failed' && (jobStatus !== 'cancelled' || kind === 'restore')
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
