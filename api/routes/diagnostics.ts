import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { StorageProbeInput, StorageProbeResult } from '../../workflows';
import { storageProbeStatusQuery, storageProbeWorkflow } from '../../workflows';
import { badRequest, notFound } from '../problem';

/**
 * Storage probes: an operator (or a test) asks a worker to write an object to the backup store and read it back,
 * proving the whole chain API → Temporal → worker → storage.
 */
export function diagnosticsRoutes(deps: { client: Client; taskQueue: string; bucket: string }): Router {
  const router = Router();

  router.post('/diagnostics/storage-probes', async (req, res) => {
    const holdSeconds = (req.body as { holdSeconds?: unknown } | undefined)?.holdSeconds ?? 0;
    if (typeof holdSeconds !== 'number' || !Number.isInteger(holdSeconds) || holdSeconds < 0 || holdSeconds > 3600) {
      throw badRequest('body.holdSeconds', 'must be an integer from 0 to 3600');
    }
    const workflowId = `storage-probe-${randomUUID()}`;
    const input: StorageProbeInput = { bucket: deps.bucket, holdSeconds };
    await deps.client.workflow.start(storageProbeWorkflow, { taskQueue: deps.taskQueue, workflowId, args: [input] });
    res.status(202).location(`/diagnostics/storage-probes/${workflowId}`).json({ workflowId, status: 'writing' });
  });

  router.get('/diagnostics/storage-probes/:workflowId', async (req, res) => {
    const { workflowId } = req.params;
    if (!/^storage-probe-[0-9a-f-]{36}$/.test(workflowId)) throw notFound(`storage probe '${workflowId}'`);
    const handle = deps.client.workflow.getHandle(workflowId);
    try {
      const description = await handle.describe();
      const running = description.status.name === 'RUNNING';
      const status = running ? await handle.query(storageProbeStatusQuery) : undefined;
      // The workflow says 'completed' or 'failed' just before it returns: answer with its result, never without one.
      if (running && status !== 'completed' && status !== 'failed') {
        res.json({ workflowId, status });
      } else if (running || description.status.name === 'COMPLETED') {
        const result: StorageProbeResult = await handle.result();
        res.json({ workflowId, status: result.verified ? 'completed' : 'failed', result });
      } else {
        res.json({ workflowId, status: 'failed', temporalStatus: description.status.name });
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`storage probe '${workflowId}'`);
      throw err;
    }
  });

  return router;
}
