import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApiKeyRecord, ApiKeyRole, ApiKeySummary, Organization, Reseller } from '../accounts/types';
import type { JobKind } from '../temporal/search-attributes';

// The reseller account workflow's messages, shared by the workflow and the accounts directory (accounts/).

export interface CreateOrganizationRequest {
  id: string;
  name: string;
  createdAt: string;
}

export interface CreateApiKeyRequest {
  keyId: string;
  secretHash: string;
  role: ApiKeyRole;
  organizationId?: string;
  createdAt: string;
}

export interface RevokeApiKeyRequest {
  keyId: string;
  revokedAt: string;
}

export const resellerAccountWorkflowId = (resellerId: string) => `reseller:${resellerId}`;
export const resellerAccountJobKind: JobKind = 'reseller-account';

export const resellerQuery = defineQuery<Reseller>('reseller');
export const organizationsQuery = defineQuery<Organization[]>('organizations');
/** The record the API authenticates against (hash included); undefined for an unknown key id. */
export const apiKeyRecordQuery = defineQuery<ApiKeyRecord | undefined, [string]>('apiKeyRecord');
export const apiKeysQuery = defineQuery<ApiKeySummary[]>('apiKeys');

export const createOrganizationUpdate = defineUpdate<Organization, [CreateOrganizationRequest]>('createOrganization');
export const createApiKeyUpdate = defineUpdate<ApiKeySummary, [CreateApiKeyRequest]>('createApiKey');
export const revokeApiKeyUpdate = defineUpdate<ApiKeySummary, [RevokeApiKeyRequest]>('revokeApiKey');
