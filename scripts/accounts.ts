/**
 * `npm run accounts -- <command>`: the operator's command for resellers, their organizations and API keys.
 * A new key is printed once and never again: only its hash is stored. Needs a running worker (the account workflows
 * answer queries and updates) — `npm run demo` or `npm run worker`.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../temporal.config';
import { connectClient } from '../temporal/connection';
import { TemporalAccountsDirectory } from '../accounts/temporal-accounts-directory';

const usage = `usage: npm run accounts -- <command> [options]

  create-reseller --name NAME [--id ID]           start a reseller's account; prints its id
  create-organization --reseller R --name NAME    prints the organization's id
  create-key --reseller R [--organization O]      prints a new API key once (reseller key, or organization user's)
  rotate-key --reseller R --key KEY_ID            new key with the same role, then revokes the old one
  revoke-key --reseller R --key KEY_ID            takes effect within seconds, without restarts
  list-keys --reseller R                          key ids, roles, created and revoked times (never secrets)
  list-organizations --reseller R`;

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

class UsageError extends Error {}

async function run(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      id: { type: 'string' },
      reseller: { type: 'string' },
      organization: { type: 'string' },
      key: { type: 'string' },
    },
  });
  if (!command || command === 'help' || command === '--help') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const client = await connectClient(config.temporal);
  const accounts = new TemporalAccountsDirectory(client, { taskQueue: config.temporal.taskQueue });
  const slow = setTimeout(() => console.error('still waiting: is a worker running (npm run worker)?'), 10_000);
  slow.unref();
  try {
    switch (command) {
      case 'create-reseller': {
        const reseller = await accounts.createReseller({ name: required(values, 'name'), id: values.id });
        console.log(`reseller ${reseller.id} (${reseller.name}) created`);
        console.log(`next: npm run accounts -- create-key --reseller ${reseller.id}`);
        break;
      }
      case 'create-organization': {
        const organization = await accounts.createOrganization(required(values, 'reseller'), {
          name: required(values, 'name'),
        });
        console.log(`organization ${organization.id} (${organization.name}) created`);
        break;
      }
      case 'create-key':
      case 'rotate-key': {
        const resellerId = required(values, 'reseller');
        const { apiKey, key } =
          command === 'create-key'
            ? await accounts.createApiKey(resellerId, values.organization)
            : await accounts.rotateApiKey(resellerId, required(values, 'key'));
        const role = key.role === 'reseller' ? 'reseller' : `organization-user of ${key.organizationId}`;
        if (command === 'rotate-key') console.log(`key ${values.key} revoked`);
        console.log(`key ${key.keyId} (${role}) created; shown this once, store it now:\n\n${apiKey}\n`);
        break;
      }
      case 'revoke-key': {
        const key = await accounts.revokeApiKey(required(values, 'reseller'), required(values, 'key'));
        console.log(`key ${key.keyId} revoked at ${key.revokedAt}`);
        break;
      }
      case 'list-keys':
        console.table(await accounts.listApiKeys(required(values, 'reseller')));
        break;
      case 'list-organizations':
        console.table(await accounts.listOrganizations(required(values, 'reseller')));
        break;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } finally {
    clearTimeout(slow);
    await client.connection.close();
  }
}

run().catch((err) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n\n${usage}`);
  } else {
    console.error(err instanceof Error ? err.message : err);
  }
  process.exit(1);
});
