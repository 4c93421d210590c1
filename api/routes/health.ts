import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import { sendProblem } from '../problem';

type Check = { ok: true } | { ok: false; error: string };

async function check(what: () => Promise<unknown>, timeoutMs = 3000): Promise<Check> {
  try {
    await Promise.race([
      what(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** GET /healthz: 200 when Temporal and storage both answer, 503 naming the part that does not. */
export function healthRoutes(deps: { client: Client; storage: Storage; bucket: string; namespace: string }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [temporal, storage] = await Promise.all([
      check(() => deps.client.workflowService.describeNamespace({ namespace: deps.namespace })),
      check(async () => {
        const [exists] = await deps.storage.bucket(deps.bucket).exists();
        if (!exists) throw new Error(`bucket '${deps.bucket}' does not exist`);
      }),
    ]);
    const checks = { temporal, storage };
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    if (failing.length === 0) {
      res.json({ status: 'ok', checks });
      return;
    }
    sendProblem(res, {
      title: 'Service unavailable',
      status: 503,
      detail: `${failing.join(' and ')} ${failing.length === 1 ? 'is' : 'are'} not reachable`,
      failing,
      checks,
    });
  });
  return router;
}
