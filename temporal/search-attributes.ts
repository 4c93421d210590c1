import { defineSearchAttributeKey } from '@temporalio/common';
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
