import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { exportWorkflowId } from '../../exports/object-names';
import type { ExportRequest } from '../../exports/types';
import type { AppConfig } from '../../temporal.config';
import { tenantWorkflowId, type BackupTarget } from '../../tenants/types';
import { exportWorkflow, tenantQuery } from '../../workflows';

export interface ExportFigures {
  exportSeconds: number;
  exportObjectsPerSecond: number;
  /** Peak RSS of a worker started for the export alone (its start included): what an export needs. */
  exportPeakRssMb: number;
  exportObjects: number;
  exportMb: number;
  /** RSS of that worker once it polls, before the export: what of the peak is the worker's own. */
  exportWorkerStartRssMb: number;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1]);
  if (!kb) throw new Error(`the worker's ${field} could not be read`);
  return kb;
}

/**
 * Whole-tenant export of one snapshot through the real workflow, timed from its start to its result, on a worker
 * that did nothing else (`workerPid`, just started), so its peak RSS is the export's, not the backups'.
 */
export async function measureExport(input: {
  client: Client;
  config: AppConfig;
  target: BackupTarget;
  snapshotId: string;
  workerPid: number;
}): Promise<ExportFigures> {
  const { client, config, target } = input;
  // Wait for the fresh worker to poll (a query is answered only then), so the figure does not include its start.
  for (const deadline = Date.now() + 120_000; ;) {
    try {
      await client.workflow.getHandle(tenantWorkflowId(target.tenantId)).query(tenantQuery);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const startRssKb = statusKb(input.workerPid, 'VmRSS');
  const exportId = randomUUID();
  const req: ExportRequest = {
    exportId,
    tenantId: target.tenantId,
    resellerId: target.resellerId,
    directory: target.directory,
    storage: target.storage,
    snapshotId: input.snapshotId,
    level: 'tenant',
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  };
  const started = Date.now();
  const result = await client.workflow.execute(exportWorkflow, {
    taskQueue: config.temporal.taskQueue,
    workflowId: exportWorkflowId(target.tenantId, exportId),
    args: [req],
  });
  const seconds = (Date.now() - started) / 1000;
  const peakKb = statusKb(input.workerPid, 'VmHWM');
  return {
    exportSeconds: Number(seconds.toFixed(2)),
    exportObjectsPerSecond: Math.round(result.objects / seconds),
    exportPeakRssMb: Math.round(peakKb / 1024),
    exportObjects: result.objects,
    exportMb: Number((result.bytes / 1024 / 1024).toFixed(1)),
    exportWorkerStartRssMb: Math.round(startRssKb / 1024),
  };
}
