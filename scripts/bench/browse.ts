import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { apiDependencies } from '../../api/dependencies';
import { TemporalAccountsDirectory } from '../../accounts/temporal-accounts-directory';
import { createStorageClient } from '../../storage/gcs-client';
import type { AppConfig } from '../../temporal.config';
import type { BackupTarget } from '../../tenants/types';

export interface BrowseFigures {
  /** One diff of two snapshots through the API, with nothing of the repository cached (a fresh API process). */
  diffSeconds: number;
  /** Objects the diff reported as added, removed, restored or changed. */
  diffObjects: number;
  /** Median time of one object with its relationships and version history through the API. */
  objectReadMs: number;
  objectReads: number;
}

/**
 * Browse and diff figures through the real API (in this process, over a socket) against the benchmark's repository:
 * the diff of the first two snapshots (`--churn` apart) and the median read of random users with their history.
 */
export async function measureBrowse(
  config: AppConfig,
  client: Client,
  target: BackupTarget,
  from: string,
  to: string,
  reads = 50,
): Promise<BrowseFigures> {
  const storage = createStorageClient(config.storage);
  const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
  await accounts.createReseller({ name: 'Bench MSP', id: target.resellerId });
  const { apiKey } = await accounts.createApiKey(target.resellerId);
  const app = createApp(apiDependencies(config, client, { storage, accounts }));
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tenants/${target.tenantId}`;
  const get = async (path: string) => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${apiKey}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  try {
    const started = performance.now();
    const diff = (await get(`/diff?from=${from}&to=${to}`)) as { summary: Record<string, number> };
    const diffSeconds = (performance.now() - started) / 1000;
    const s = diff.summary;

    const { total } = (await get(`/snapshots/${to}/types/users/objects?limit=1`)) as { total: number };
    const times: number[] = [];
    for (let i = 0; i < reads; i++) {
      const offset = Math.floor(Math.random() * total);
      const page = (await get(`/snapshots/${to}/types/users/objects?offset=${offset}&limit=1`)) as {
        objects: { id: string }[];
      };
      const t0 = performance.now();
      await get(`/snapshots/${to}/types/users/objects/${page.objects[0].id}`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      diffSeconds,
      diffObjects: s.added + s.removed + s.restored + s.changed,
      objectReadMs: times[Math.floor(times.length / 2)],
      objectReads: times.length,
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
