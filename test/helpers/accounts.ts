import type { Client } from '@temporalio/client';
import { createApp, type ApiDependencies } from '../../api/app';
import { apiDependencies } from '../../api/dependencies';
import { TemporalAccountsDirectory } from '../../accounts/temporal-accounts-directory';
import type { TestStack } from './stack';
import { listen } from './http';

export type TestApi = Awaited<ReturnType<typeof listen>> & {
  deps: ApiDependencies;
  accounts: TemporalAccountsDirectory;
};

/** The real API over a socket, with accounts in Temporal and the audit trail in the stack's storage. */
export async function startApi(
  stack: TestStack,
  client: Client,
  overrides: Partial<ApiDependencies> & { cacheTtlMs?: number } = {},
): Promise<TestApi> {
  const { cacheTtlMs, ...rest } = overrides;
  const accounts = new TemporalAccountsDirectory(client, { taskQueue: stack.config.temporal.taskQueue, cacheTtlMs });
  const deps = apiDependencies(stack.config, client, { accounts, ...rest });
  return { ...(await listen(createApp(deps))), deps, accounts };
}

/** A reseller with one reseller API key (the worker must be running: the account is a workflow). */
export async function newReseller(
  accounts: TemporalAccountsDirectory,
  name = 'Test MSP',
): Promise<{ resellerId: string; apiKey: string; keyId: string }> {
  const reseller = await accounts.createReseller({ name });
  const { apiKey, key } = await accounts.createApiKey(reseller.id);
  return { resellerId: reseller.id, apiKey, keyId: key.keyId };
}

export const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
