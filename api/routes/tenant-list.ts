import type { Client } from '@temporalio/client';
import { searchAttributeNames } from '../../temporal.config';
import { tenantListEntryOf, tenantListMemoKey, type TenantListEntry } from '../../tenants/list-entry';
import { PLANS, type TenantStatus } from '../../tenants/types';
import { tenantQuery } from '../../workflows';
import { badRequest } from '../problem';

export const TENANT_STATUSES: TenantStatus[] = ['awaiting-consent', 'active', 'reauthorization-required'];
export const LAST_BACKUP_RESULTS = ['none', 'running', 'completed', 'incomplete', 'failed'] as const;
export const MAX_PAGE_SIZE = 200;

export interface TenantListFilters {
  organizationId?: string;
  status?: TenantStatus;
  plan?: (typeof PLANS)[number];
  lastBackup?: (typeof LAST_BACKUP_RESULTS)[number];
  /** Matches display name or domain (the directory typed when the tenant was added), case-insensitive. */
  search?: string;
  pageSize: number;
  cursor?: string;
}

export type TenantListItem = TenantListEntry & { reauthorizationRequired: boolean; nextBackupAt?: string };

export interface TenantListPage {
  tenants: TenantListItem[];
  /** How many tenants match the filters, over all pages. */
  total: number;
  nextCursor?: string;
}

/**
 * One page of a reseller's tenants, sorted by name. Every field comes from two list calls to Temporal's visibility
 * store (tenant workflows with the memo their workflow keeps current, and the reseller's backup schedules for the next
 * run), never one call per tenant: a 1,000-tenant reseller's page answers as fast as a 10-tenant one's. Organization
 * and status filter in the visibility query (search attributes); plan, last backup result and search filter the memo.
 * The cursor is the sort key of the last tenant shown, so a page stays right when tenants are added meanwhile.
 */
export async function listTenantPage(
  client: Client,
  resellerId: string,
  filters: TenantListFilters,
): Promise<TenantListPage> {
  const after = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
  const clauses = [
    `WorkflowType = 'tenantWorkflow'`,
    `ExecutionStatus = 'Running'`,
    `${searchAttributeNames.resellerId} = '${resellerId}'`,
  ];
  if (filters.organizationId) clauses.push(`${searchAttributeNames.organizationId} = '${filters.organizationId}'`);
  if (filters.status) clauses.push(`${searchAttributeNames.jobStatus} = '${filters.status}'`);

  const [entries, nextRuns] = await Promise.all([
    readEntries(client, clauses.join(' AND ')),
    nextScheduledBackups(client, resellerId),
  ]);
  const search = filters.search?.trim().toLowerCase();
  const matching = entries
    .filter((e) => !filters.plan || e.plan === filters.plan)
    .filter((e) => !filters.lastBackup || (e.lastBackup?.status ?? 'none') === filters.lastBackup)
    .filter(
      (e) => !search || e.directory.toLowerCase().includes(search) || !!e.displayName?.toLowerCase().includes(search),
    )
    .map((e) => ({ key: sortKey(e), entry: e }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const start = after === undefined ? 0 : matching.findIndex((m) => m.key > after);
  const page = start < 0 ? [] : matching.slice(start, start + filters.pageSize);
  const more = start >= 0 && start + filters.pageSize < matching.length;
  return {
    tenants: page.map(({ entry }) => ({
      ...entry,
      reauthorizationRequired: entry.status === 'reauthorization-required',
      ...(nextRuns.has(entry.tenantId) && !entry.schedulePaused ? { nextBackupAt: nextRuns.get(entry.tenantId) } : {}),
    })),
    total: matching.length,
    ...(more ? { nextCursor: encodeCursor(page[page.length - 1].key) } : {}),
  };
}

async function readEntries(client: Client, query: string): Promise<TenantListEntry[]> {
  const entries: TenantListEntry[] = [];
  const withoutMemo: string[] = [];
  for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
    const entry = execution.memo?.[tenantListMemoKey] as TenantListEntry | undefined;
    if (entry) entries.push(entry);
    else withoutMemo.push(execution.workflowId);
  }
  // Tenant workflows that have not run since the list memo was introduced (or have not yet processed their first
  // task): asked directly, once; they write their memo on their next wake-up.
  for (const workflowId of withoutMemo) {
    const record = await client.workflow
      .getHandle(workflowId)
      .query(tenantQuery)
      .catch(() => undefined);
    if (record) entries.push(tenantListEntryOf(record));
  }
  return entries;
}

/** Next run of each of the reseller's backup schedules, by tenant id: one list of schedules, not one per tenant. */
async function nextScheduledBackups(client: Client, resellerId: string): Promise<Map<string, string>> {
  const next = new Map<string, string>();
  for await (const schedule of client.schedule.list({
    query: `${searchAttributeNames.resellerId} = '${resellerId}'`,
    pageSize: 1000,
  })) {
    const tenantId = schedule.searchAttributes?.[searchAttributeNames.tenantId]?.[0];
    const at = schedule.info.nextActionTimes[0];
    if (typeof tenantId === 'string' && at) next.set(tenantId, at.toISOString());
  }
  return next;
}

const sortKey = (e: TenantListEntry) => `${(e.displayName ?? e.directory).toLowerCase()}\u0000${e.tenantId}`;
const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key.includes('\u0000')) throw badRequest('query.cursor', 'is not a cursor this API returned');
  return key;
}
