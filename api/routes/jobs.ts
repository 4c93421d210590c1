import { Router } from 'express';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { searchAttributeNames } from '../../temporal.config';
import { backupProgressQuery, type BackupProgress } from '../../workflows';
import { requireReseller, resellerOf } from '../auth';

const KINDS = ['backup', 'retention', 'restore'] as const;

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
    const jobs = [];
    // Visibility lists newest first already; ORDER BY is not supported by every visibility store (SQLite).
    for await (const execution of deps.client.workflow.list({ query: clauses.join(' AND ') })) {
      jobs.push(await describeJob(deps.client, execution));
      if (jobs.length >= limit) break;
    }
    res.json({ jobs });
  });
  return router;
}

async function describeJob(client: Client, e: WorkflowExecutionInfo) {
  const attrs = e.searchAttributes as Record<string, unknown[] | undefined>;
  const first = (name: string) => attrs[name]?.[0] as string | undefined;
  let progress: BackupProgress | undefined;
  if (e.type === 'tenantBackupWorkflow' && e.status.name === 'RUNNING') {
    progress = await client.workflow
      .getHandle(e.workflowId, e.runId)
      .query(backupProgressQuery)
      .catch(() => undefined);
  }
  return {
    workflowId: e.workflowId,
    kind: first(searchAttributeNames.jobKind),
    tenantId: first(searchAttributeNames.tenantId),
    status: first(searchAttributeNames.jobStatus) ?? e.status.name.toLowerCase(),
    temporalStatus: e.status.name,
    startedAt: e.startTime.toISOString(),
    closedAt: e.closeTime?.toISOString(),
    ...(progress ? { progress } : {}),
  };
}
