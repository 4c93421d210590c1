import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';
import { searchAttributeNames } from '../workflow-constants';

// Typed keys of the custom search attributes the stack registers; safe to import from workflow code.
export const tenantIdKey = defineSearchAttributeKey(searchAttributeNames.tenantId, 'KEYWORD');
export const organizationIdKey = defineSearchAttributeKey(searchAttributeNames.organizationId, 'KEYWORD');
export const resellerIdKey = defineSearchAttributeKey(searchAttributeNames.resellerId, 'KEYWORD');
export const jobKindKey = defineSearchAttributeKey(searchAttributeNames.jobKind, 'KEYWORD');
export const jobStatusKey = defineSearchAttributeKey(searchAttributeNames.jobStatus, 'KEYWORD');
export const tenantPlanKey = defineSearchAttributeKey(searchAttributeNames.tenantPlan, 'KEYWORD');
export const lastBackupResultKey = defineSearchAttributeKey(searchAttributeNames.lastBackupResult, 'KEYWORD');
export const tenantNameKey = defineSearchAttributeKey(searchAttributeNames.tenantName, 'KEYWORD');
export const tenantDomainKey = defineSearchAttributeKey(searchAttributeNames.tenantDomain, 'KEYWORD');

/** What each workflow of the product is, as the JobKind search attribute says (System Status filters on it). */
export type JobKind = 'tenant' | 'backup' | 'reseller-account' | 'export' | 'restore' | 'retention' | 'verify';

/**
 * The values a tenant list filters and searches on, as `tenantListSearchValuesOf` (tenants/list-entry.ts) computes
 * them. Typed here as strings: temporal/ may not import tenants/ (README "Architecture").
 */
export interface TenantListSearchAttributeValues {
  plan: string;
  lastBackup: string;
  name: string;
  domain: string;
}

/** The tenant list's search attributes: set when a tenant workflow starts and upserted when they change. */
export function tenantListSearchAttributes(search: TenantListSearchAttributeValues): SearchAttributePair[] {
  return [
    { key: tenantPlanKey, value: search.plan },
    { key: lastBackupResultKey, value: search.lastBackup },
    { key: tenantNameKey, value: search.name },
    { key: tenantDomainKey, value: search.domain },
  ];
}

/**
 * What a tenant workflow is started with (POST /tenants, the tenant-list benchmark): its ids and kind, and the list's
 * fields, so the tenant is filterable and searchable in the list from the start, before the workflow's first task.
 */
export function tenantStartSearchAttributes(
  tenant: { tenantId: string; organizationId: string; resellerId: string },
  search: TenantListSearchAttributeValues,
): SearchAttributePair[] {
  return [
    { key: tenantIdKey, value: tenant.tenantId },
    { key: organizationIdKey, value: tenant.organizationId },
    { key: resellerIdKey, value: tenant.resellerId },
    { key: jobKindKey, value: 'tenant' satisfies JobKind },
    ...tenantListSearchAttributes(search),
  ];
}
