import type { Client } from '@temporalio/client';
import { searchAttributeNames } from '../../temporal.config';
import {
  tenantListEntryOf,
  tenantListMemoKey,
  tenantListSearchValuesOf,
  type TenantListEntry,
} from '../../tenants/list-entry';
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
  /** A prefix of the display name or domain (the directory typed when the tenant was added), case-insensitive. */
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
 * per tenant. Every filter and the search are visibility clauses on the tenant workflow's search attributes
 * (organization, status, plan, last backup result, lower-cased name and domain, matched by prefix), so any page is
 * one visibility page of `pageSize` executions, newest tenant first, with Temporal's page token as the cursor and a
 * count for the total: its cost does not grow with the number of tenants, filtered or not.
 */
export async function listTenantPage(
  client: Client,
  resellerId: string,
  filters: TenantListFilters,
): Promise<TenantListPage> {
  const names = searchAttributeNames;
  const clauses = [
    `WorkflowType = 'tenantWorkflow'`,
    `ExecutionStatus = 'Running'`,
    `${names.resellerId} = '${resellerId}'`,
  ];
  if (filters.organizationId) clauses.push(`${names.organizationId} = '${filters.organizationId}'`);
  if (filters.status) clauses.push(`${names.jobStatus} = '${filters.status}'`);
  // Fields only tenant workflows of this version carry as search attributes (older ones gain them on their next
  // wake-up): `listFieldClauses` are the filters on them.
  const listFieldClauses: string[] = [];
  if (filters.plan) listFieldClauses.push(`${names.tenantPlan} = '${filters.plan}'`);
  if (filters.lastBackup) listFieldClauses.push(`${names.lastBackupResult} = '${filters.lastBackup}'`);
  const search = filters.search?.trim().toLowerCase();
  if (search) {
    // The OpenAPI document refuses quotes and backslashes in `search`, so it cannot leave its string literal.
    listFieldClauses.push(
      `(${names.tenantName} STARTS_WITH '${search}' OR ${names.tenantDomain} STARTS_WITH '${search}')`,
    );
  }
  const query = [...clauses, ...listFieldClauses].join(' AND ');

  const nextRunsPromise = nextScheduledBackups(client, resellerId);
  // Asked on every page so the total stays the same from page to page; shown on the first.
  const legacyPromise =
    listFieldClauses.length > 0
      ? legacyEntries(client, [...clauses, `${names.tenantPlan} IS NULL`].join(' AND '), filters, search)
      : Promise.resolve([]);
  const token = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
  const [visible, counted, legacy] = await Promise.all([
    visibilityPage(client, query, filters.pageSize, token ? Buffer.from(token, 'base64url') : undefined),
    client.workflow.count(query),
    legacyPromise,
  ]);
  const entries = [
    ...(await withoutMemoQueried(client, visible.entries, visible.withoutMemo)),
    ...(filters.cursor === undefined ? legacy : []),
  ];
  const nextRuns = await nextRunsPromise;
  return {
    tenants: entries.map((entry) => ({
      ...entry,
      reauthorizationRequired: entry.status === 'reauthorization-required',
      ...(nextRuns.has(entry.tenantId) && !entry.schedulePaused ? { nextBackupAt: nextRuns.get(entry.tenantId) } : {}),
    })),
    total: counted.count + legacy.length,
    ...(visible.nextPageToken?.length ? { nextCursor: encodeCursor(visible.nextPageToken.toString('base64url')) } : {}),
  };
}

/**
 * Tenant workflows started before the list's search attributes existed and not woken since: filtered here, shown on
 * the first page, counted in every page's total. Normally none, so this is one empty visibility page.
 */
async function legacyEntries(
  client: Client,
  query: string,
  filters: TenantListFilters,
  search: string | undefined,
): Promise<TenantListEntry[]> {
  const entries: TenantListEntry[] = [];
  let token: Buffer | undefined;
  do {
    const page = await visibilityPage(client, query, 1000, token);
    entries.push(...(await withoutMemoQueried(client, page.entries, page.withoutMemo)));
    token = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (token);
  return entries.filter((e) => {
    const v = tenantListSearchValuesOf(e);
    return (
      (!filters.plan || v.plan === filters.plan) &&
      (!filters.lastBackup || v.lastBackup === filters.lastBackup) &&
      (!search || v.name.startsWith(search) || v.domain.startsWith(search))
    );
  });
}

/**
 * One page of visibility, each memo decoded through the client's data converter (its payload codecs, then its
 * payload converter: the public interfaces the client itself uses) all at once rather than one after another.
 */
async function visibilityPage(client: Client, query: string, pageSize: number, nextPageToken?: Buffer) {
  const { namespace, loadedDataConverter } = client.workflow.options;
  const response = await client.workflowService.listWorkflowExecutions({ namespace, query, pageSize, nextPageToken });
  const decoded = await Promise.all(
    response.executions.map(async (raw) => {
      const payload = raw.memo?.fields?.[tenantListMemoKey];
      if (!payload) return { workflowId: raw.execution?.workflowId ?? '', entry: undefined };
      let payloads = [payload];
      for (const codec of [...loadedDataConverter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
      const entry = loadedDataConverter.payloadConverter.fromPayload<TenantListEntry>(payloads[0]);
      return { workflowId: raw.execution?.workflowId ?? '', entry };
    }),
  );
  const entries: TenantListEntry[] = [];
  const withoutMemo: string[] = [];
  for (const d of decoded) {
    if (d.entry) entries.push(d.entry);
    else if (d.workflowId) withoutMemo.push(d.workflowId);
  }
  return {
    entries,
    withoutMemo,
    nextPageToken: response.nextPageToken ? Buffer.from(response.nextPageToken) : undefined,
  };
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

/** Temporal's page token, tagged so a cursor of another API version is refused; opaque to clients. */
const encodeCursor = (value: string) => Buffer.from(`v:${value}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('v:') || decoded.length < 3) {
    throw badRequest('query.cursor', 'is not a cursor this API returned');
  }
  return decoded.slice(2);
}
