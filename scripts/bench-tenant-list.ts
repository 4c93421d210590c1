/**
 * `npm run bench:tenants -- --tenants 1000`: how fast the dashboard's list answers for a reseller with many tenants.
 * An isolated stack (Temporal dev server, GCS emulator) on free ports, the real worker and API in this process;
 * tenant workflows are started as POST /tenants starts them (they wait for consent: no Graph is needed), then GET /tenants is timed
 * for a page of 100 — the first page, following pages, searched and filtered — over the network like a browser.
 * Prints one JSON line per scenario, then the headline `tenantListP95Ms` over the dashboard's pages of 100 (the goal:
 * ≤ 300 ms for 1,000 tenants) and `searchOrFilterP95Ms` for searched and filtered lists (plan, status, organization,
 * last backup result: visibility clauses on search attributes, like the plain pages).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../temporal.config';
import { freePort } from '../devstack/ports';
import { startStack, stopStack } from '../devstack/local-stack';
import { ensureBucket } from '../devstack/buckets';
import { createStorageClient } from '../storage/gcs-client';
import { connectClient } from '../temporal/connection';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';
import { apiDependencies } from '../api/dependencies';
import { createApp } from '../api/app';
import { createWorker } from '../worker/create-worker';
import { tenantListMemoKey, tenantListSearchValuesOf } from '../tenants/list-entry';
import { tenantWorkflowId, type NewTenantInput } from '../tenants/types';
import { tenantStartSearchAttributes } from '../temporal/search-attributes';
import { tenantWorkflow } from '../workflows';

const log = (line: string) => console.error(`bench:tenants: ${line}`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tenants: { type: 'string', default: '1000' }, samples: { type: 'string', default: '40' } },
  });
  const tenantCount = Number(values.tenants);
  const samples = Number(values.samples);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-backup-bench-tenants-'));
  const [temporalPort, temporalUiPort, gcsPort, apiPort] = [await freePort(), await freePort(), await freePort(), 0];
  const config = loadConfig({
    ...process.env,
    ENTRA_BACKUP_DATA_DIR: dataDir,
    LOCAL_TEMPORAL_PORT: String(temporalPort),
    LOCAL_TEMPORAL_UI_PORT: String(temporalUiPort),
    LOCAL_GCS_PORT: String(gcsPort),
    TEMPORAL_TASK_QUEUE: 'entra-backup-bench-tenants',
  });
  let stop: (() => Promise<void>)[] = [];
  try {
    log(`starting the stack in ${dataDir}`);
    await startStack({ ...config.local, namespace: config.temporal.namespace });
    await ensureBucket(config.storage, config.storage.defaultBucket);
    const client = await connectClient(config.temporal);
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const storage = createStorageClient(config.storage);
    const worker = await createWorker(connection, config, { config, storage, temporal: client });
    const running = worker.run();
    stop = [
      async () => {
        worker.shutdown();
        await running;
        await connection.close();
        await client.connection.close();
      },
    ];
    const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
    const app = createApp(apiDependencies(config, client, { storage, accounts }));
    const server = app.listen(apiPort, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    stop.unshift(() => new Promise((resolve) => server.close(() => resolve())));
    const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const reseller = await accounts.createReseller({ name: 'Bench MSP' });
    const organizations = [
      await accounts.createOrganization(reseller.id, { name: 'North' }),
      await accounts.createOrganization(reseller.id, { name: 'South' }),
    ];
    const { apiKey } = await accounts.createApiKey(reseller.id);
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

    // Started like POST /tenants starts them (same input and search attributes), without its read-back query: the
    // bench is about reading the list, and 1,000 read-backs on a loaded 2-core machine only measure the machine.
    log(`adding ${tenantCount} tenants`);
    const addStarted = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < tenantCount; i = next++) {
          const tenantId = randomUUID();
          const organizationId = organizations[i % 2].id;
          const directory = `customer${String(i).padStart(4, '0')}.example.com`;
          const plan = i % 10 === 0 ? 'archiver' : 'backup';
          const tenant: NewTenantInput = {
            tenantId,
            resellerId: reseller.id,
            organizationId,
            directory,
            storage: { bucket: config.storage.defaultBucket, prefix: `tenants/${i}`, region: 'local' },
            plan,
            backupImmediately: false,
            consentTimeoutMs: config.entra.consentTimeoutMs,
            createdAt: new Date().toISOString(),
          };
          await client.workflow.start(tenantWorkflow, {
            taskQueue: config.temporal.taskQueue,
            workflowId: tenantWorkflowId(tenantId),
            args: [{ tenant }],
            typedSearchAttributes: tenantStartSearchAttributes(tenant, tenantListSearchValuesOf(tenant)),
          });
        }
      }),
    );
    log(`added in ${((Date.now() - addStarted) / 1000).toFixed(1)} s; waiting for every list memo`);
    for (;;) {
      let withMemo = 0;
      for await (const e of client.workflow.list({ query: `ResellerId = '${reseller.id}'`, pageSize: 1000 })) {
        if (e.memo?.[tenantListMemoKey]) withMemo++;
      }
      if (withMemo >= tenantCount) break;
      await new Promise((r) => setTimeout(r, 500));
    }

    const time = async (query: string) => {
      const started = performance.now();
      const res = await fetch(`${baseUrl}/tenants?${query}`, { headers });
      const body = (await res.json()) as { tenants: unknown[]; nextCursor?: string; total: number };
      if (res.status !== 200) throw new Error(`GET /tenants?${query} answered ${res.status}`);
      return { ms: performance.now() - started, body };
    };
    const first = await time('pageSize=100');
    const scenarios: Record<string, () => string> = {
      firstPage: () => 'pageSize=100',
      laterPage: () => `pageSize=100&cursor=${first.body.nextCursor ?? ''}`,
      search: () => 'pageSize=100&search=customer05',
      filtered: () => `pageSize=100&plan=backup&status=awaiting-consent&organizationId=${organizations[0].id}`,
      lastBackupFiltered: () => 'pageSize=100&lastBackup=none&plan=archiver',
    };
    // The headline is the dashboard's page of 100 (first and later pages); searched and filtered lists are reported
    // next to it.
    const paging: number[] = [];
    const scanning: number[] = [];
    for (const [name, query] of Object.entries(scenarios)) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < samples; i++) {
        const { ms, body } = await time(query());
        times.push(ms);
        rows = body.tenants.length;
      }
      (name === 'firstPage' || name === 'laterPage' ? paging : scanning).push(...times);
      times.sort((a, b) => a - b);
      console.log(
        JSON.stringify({
          scenario: name,
          tenants: tenantCount,
          rows,
          samples,
          p50Ms: Math.round(percentile(times, 50)),
          p95Ms: Math.round(percentile(times, 95)),
        }),
      );
    }
    paging.sort((a, b) => a - b);
    scanning.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        tenants: tenantCount,
        pageSize: 100,
        tenantListP95Ms: Math.round(percentile(paging, 95)),
        searchOrFilterP95Ms: Math.round(percentile(scanning, 95)),
      }),
    );
  } finally {
    for (const s of stop) await s().catch(() => undefined);
    await stopStack(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
