/**
 * `npm run storage -- <command>`: the operator's command for tenants added before storage locations (a typed bucket
 * and prefix). It lists them and what their repositories hold, and claims a repository for its tenant only when told
 * to: nothing is moved or rewritten silently. Needs a running worker (tenant records are read by query).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { createStorageClient } from '../storage/gcs-client';
import { claimLegacyRepository, listLegacyTenants } from '../activities/backup/legacy-storage';

const usage = `usage: npm run storage -- <command> [options]

  legacy-tenants            tenants with a typed bucket/prefix, what their repository holds, and what to do
  claim --tenant TENANT_ID  record the tenant as its legacy repository's owner (refused if another tenant's
                            snapshot record is in it, or another tenant owns it)`;

const advice: Record<string, string> = {
  'no-repository': 'nothing stored yet; the first backup creates it, owned by the tenant',
  owned: 'owned by this tenant; nothing to do',
  unowned: 'only this tenant’s snapshots, no owner record: npm run storage -- claim --tenant <id>',
  mixed: 'holds other tenants’ snapshot records: backups fail; re-create the tenant in a storage location',
  'owned-by-another': 'owned by another tenant: backups fail; re-create the tenant in a storage location',
  'reserved-prefix': 'prefix overlaps a reserved one: backups fail; re-create the tenant in a storage location',
};

async function run(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' } } });
  if (!command || command === 'help' || command === '--help') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const storage = createStorageClient(config.storage);
  try {
    switch (command) {
      case 'legacy-tenants': {
        const reports = await listLegacyTenants(client, storage, config.storage.masterKey, config.temporal.taskQueue);
        if (reports.length === 0) console.log('no legacy tenants: every tenant is kept in a storage location');
        for (const r of reports) {
          console.log(
            `${r.tenantId}  reseller ${r.resellerId}  gs://${r.storage.bucket}/${r.storage.prefix}  ${r.state}` +
              (r.snapshots === undefined ? '' : `  ${r.snapshots} snapshot(s)`) +
              (r.sharedWith.length ? `  prefix also typed by ${r.sharedWith.join(', ')}` : ''),
          );
          console.log(`    ${advice[r.state]}`);
        }
        break;
      }
      case 'claim': {
        if (!values.tenant) throw new Error('--tenant is required');
        const owner = await claimLegacyRepository(client, storage, config.storage.masterKey, values.tenant);
        console.log(`repository ${owner.repositoryId} is owned by tenant ${owner.tenantId} (since ${owner.createdAt})`);
        break;
      }
      default:
        console.error(usage);
        process.exitCode = 2;
    }
  } finally {
    await client.connection.close();
  }
}

run().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
