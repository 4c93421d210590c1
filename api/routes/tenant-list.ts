import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
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
 * One page of a reseller's tenants. Every field comes from Temporal's visibility store — tenant workflows with the
 * list entry their workflow keeps in its memo, and the reseller's backup schedules for the next run — never one call
 * per tenant.
 *
 * - Without a search or a plan / last-backup filter (the dashboard's usual view, organization and status included:
 *   they are search attributes), a page is exactly one visibility page of `pageSize` executions, newest tenant first,
 *   and the cursor is Temporal's own page token: the cost does not grow with the number of tenants.
 * - With a search or a plan / last-backup filter (fields only the memo holds), every matching execution is read in
 *   pages of 1,000, filtered, sorted by name, and the cursor is the sort key of the last tenant shown.
 */
export async function listTenantPage(
  client: Client,
  resellerId: string,
  filters: TenantListFilters,
): Promise<TenantListPage> {
  const clauses = [
    `WorkflowType = 'tenantWorkflow'`,
    `ExecutionStatus = 'Running'`,
    `${searchAttributeNames.resellerId} = '${resellerId}'`,
  ];
  if (filters.organizationId) clauses.push(`${searchAttributeNames.organizationId} = '${filters.organizationId}'`);
  if (filters.status) clauses.push(`${searchAttributeNames.jobStatus} = '${filters.status}'`);
  const query = clauses.join(' AND ');
  const search = filters.search?.trim().toLowerCase();
  const scan = Boolean(search || filters.plan || filters.lastBackup);

  const nextRunsPromise = nextScheduledBackups(client, resellerId);
  let page: { entries: TenantListEntry[]; total: number; nextCursor?: string };
  if (!scan) {
    const token = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor, 'v');
    const [visible, counted] = await Promise.all([
      visibilityPage(client, query, filters.pageSize, token ? Buffer.from(token, 'base64url') : undefined),
      client.workflow.count(query),
    ]);
    page = {
      entries: await withoutMemoQueried(client, visible.entries, visible.withoutMemo),
      total: counted.count,
      nextCursor: visible.nextPageToken?.length
        ? encodeCursor('v', visible.nextPageToken.toString('base64url'))
        : undefined,
    };
  } else {
    const after = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor, 's');
    const matching = (await readAllEntries(client, query))
      .filter((e) => !filters.plan || e.plan === filters.plan)
      .filter((e) => !filters.lastBackup || (e.lastBackup?.status ?? 'none') === filters.lastBackup)
      .filter(
        (e) => !search || e.directory.toLowerCase().includes(search) || !!e.displayName?.toLowerCase().includes(search),
      )
      .map((e) => ({ key: sortKey(e), entry: e }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const start = after === undefined ? 0 : matching.findIndex((m) => m.key > after);
    const slice = start < 0 ? [] : matching.slice(start, start + filters.pageSize);
    const more = start >= 0 && start + filters.pageSize < matching.length;
    page = {
      entries: slice.map((m) => m.entry),
      total: matching.length,
      nextCursor: more ? encodeCursor('s', slice[slice.length - 1].key) : undefined,
    };
  }
  const nextRuns = await nextRunsPromise;
  return {
    tenants: page.entries.map((entry) => ({
      ...entry,
      reauthorizationRequired: entry.status === 'reauthorization-required',
      ...(nextRuns.has(entry.tenantId) && !entry.schedulePaused ? { nextBackupAt: nextRuns.get(entry.tenantId) } : {}),
    })),
    total: page.total,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}

/** One page of visibility, memos decoded (through the payload codec) all at once rather than one after another. */
async function visibilityPage(client: Client, query: string, pageSize: number, nextPageToken?: Buffer) {
  const { namespace, loadedDataConverter } = client.workflow.options;
  const response = await client.workflowService.listWorkflowExecutions({ namespace, query, pageSize, nextPageToken });
  const infos = await Promise.all(
    response.executions.map((raw) => executionInfoFromRaw(raw, loadedDataConverter, undefined, namespace)),
  );
  const entries: TenantListEntry[] = [];
  const withoutMemo: string[] = [];
  for (const info of infos) {
    const entry = info.memo?.[tenantListMemoKey] as TenantListEntry | undefined;
    if (entry) entries.push(entry);
    else withoutMemo.push(info.workflowId);
  }
  return {
    entries,
    withoutMemo,
    nextPageToken: response.nextPageToken ? Buffer.from(response.nextPageToken) : undefined,
  };
}

async function readAllEntries(client: Client, query: string): Promise<TenantListEntry[]> {
  const entries: TenantListEntry[] = [];
  const withoutMemo: string[] = [];
  let token: Buffer | undefined;
  do {
    const page = await visibilityPage(client, query, 1000, token);
    entries.push(...page.entries);
    withoutMemo.push(...page.withoutMemo);
    token = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (token);
  return withoutMemoQueried(client, entries, withoutMemo);
}

/**
 * Tenant workflows that have not run since the list memo was introduced (or not yet processed their first task) are
 * asked directly, once; they write their memo on their next wake-up.
 */
async function withoutMemoQueried(
  client: Client,
  entries: TenantListEntry[],
  workflowIds: string[],
): Promise<TenantListEntry[]> {
  const queried = await Promise.all(
    workflowIds.map((id) =>
      client.workflow
        .getHandle(id)
        .query(tenantQuery)
        .then(tenantListEntryOf, () => undefined),
    ),
  );
  return [...entries, ...queried.filter((e): e is TenantListEntry => e !== undefined)];
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
/** `v:` + Temporal's page token, or `s:` + the last sort key shown; opaque to clients. */
const encodeCursor = (kind: 'v' | 's', value: string) => Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string, kind: 'v' | 's'): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith(`${kind}:`) || decoded.length < 3) {
    throw badRequest('query.cursor', 'is not a cursor this API returned for these filters');
  }
  return decoded.slice(2);
}
