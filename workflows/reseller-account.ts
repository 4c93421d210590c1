import {
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
  upsertSearchAttributes,
  allHandlersFinished,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApiKeyRecord, ApiKeySummary, Organization, Reseller } from '../accounts/types';
import { jobKindKey, resellerIdKey } from '../temporal/search-attributes';
import {
  resellerAccountJobKind,
  resellerQuery,
  organizationsQuery,
  apiKeyRecordQuery,
  apiKeysQuery,
  createOrganizationUpdate,
  createApiKeyUpdate,
  revokeApiKeyUpdate,
} from './reseller-account-messages';

/**
 * One long-lived workflow per reseller (id `reseller:{resellerId}`) holds its organizations and API key records:
 * durable, shared by every API and worker replica, listed in the Web UI by ResellerId / JobKind. Queries read it,
 * updates change it; it never ends, and continues as new (carrying its state) when Temporal suggests it.
 *
 * API key secrets never come here: callers hash them before the update, and the validators refuse anything that is
 * not a SHA-256 hex digest.
 */
export interface ResellerAccountState {
  reseller: Reseller;
  organizations: Organization[];
  apiKeys: ApiKeyRecord[];
}

export interface ResellerAccountInput {
  state: ResellerAccountState;
  /** Continue as new after this many updates even before Temporal suggests it (tests use a small number). */
  updatesPerRun?: number;
}

const defaultUpdatesPerRun = 1000;
const idPattern = /^[a-z0-9-]{1,64}$/;
const sha256Hex = /^[0-9a-f]{64}$/;

function invalid(message: string): never {
  throw ApplicationFailure.create({ type: 'InvalidInput', message, nonRetryable: true });
}

const summary = ({ secretHash: _hash, ...rest }: ApiKeyRecord): ApiKeySummary => rest;

export async function resellerAccountWorkflow(input: ResellerAccountInput): Promise<void> {
  const state = input.state;
  const updatesPerRun = input.updatesPerRun ?? defaultUpdatesPerRun;
  let updates = 0;

  upsertSearchAttributes([
    { key: resellerIdKey, value: state.reseller.id },
    { key: jobKindKey, value: resellerAccountJobKind },
  ]);

  setHandler(resellerQuery, () => state.reseller);
  setHandler(organizationsQuery, () => state.organizations);
  setHandler(apiKeyRecordQuery, (keyId) => state.apiKeys.find((k) => k.keyId === keyId));
  setHandler(apiKeysQuery, () => state.apiKeys.map(summary));

  setHandler(
    createOrganizationUpdate,
    (request) => {
      updates++;
      // A retried request with the same id gets the organization it created the first time.
      const existing = state.organizations.find((o) => o.id === request.id);
      if (existing) return existing;
      const organization: Organization = {
        id: request.id,
        resellerId: state.reseller.id,
        name: request.name.trim(),
        createdAt: request.createdAt,
      };
      state.organizations.push(organization);
      return organization;
    },
    {
      validator: (request) => {
        if (!idPattern.test(request.id)) invalid('organization id must match [a-z0-9-]{1,64}');
        if (typeof request.name !== 'string' || request.name.trim() === '') invalid('organization name is empty');
        const existing = state.organizations.find((o) => o.id === request.id);
        if (existing && existing.name !== request.name.trim()) invalid(`organization '${request.id}' already exists`);
      },
    },
  );

  setHandler(
    createApiKeyUpdate,
    (request) => {
      updates++;
      const existing = state.apiKeys.find((k) => k.keyId === request.keyId);
      if (existing) return summary(existing);
      const record: ApiKeyRecord = {
        keyId: request.keyId,
        secretHash: request.secretHash,
        role: request.role,
        ...(request.role === 'organization-user' ? { organizationId: request.organizationId } : {}),
        createdAt: request.createdAt,
      };
      state.apiKeys.push(record);
      return summary(record);
    },
    {
      validator: (request) => {
        if (!idPattern.test(request.keyId)) invalid('key id must match [a-z0-9-]{1,64}');
        if (!sha256Hex.test(request.secretHash)) invalid('secretHash must be a SHA-256 hex digest, never a secret');
        if (request.role !== 'reseller' && request.role !== 'organization-user') invalid('unknown role');
        if (request.role === 'organization-user' && !state.organizations.some((o) => o.id === request.organizationId)) {
          invalid(`organization '${request.organizationId}' does not belong to reseller '${state.reseller.id}'`);
        }
        const existing = state.apiKeys.find((k) => k.keyId === request.keyId);
        if (existing && existing.secretHash !== request.secretHash) invalid(`key '${request.keyId}' already exists`);
      },
    },
  );

  setHandler(
    revokeApiKeyUpdate,
    (request) => {
      updates++;
      const record = state.apiKeys.find((k) => k.keyId === request.keyId)!;
      record.revokedAt ??= request.revokedAt;
      return summary(record);
    },
    {
      validator: (request) => {
        if (!state.apiKeys.some((k) => k.keyId === request.keyId)) invalid(`unknown key '${request.keyId}'`);
      },
    },
  );

  await condition(() => workflowInfo().continueAsNewSuggested || updates >= updatesPerRun);
  // Updates accepted in this run must finish before the state moves to the next run.
  await condition(allHandlersFinished);
  await continueAsNew<typeof resellerAccountWorkflow>({ state, updatesPerRun: input.updatesPerRun });
}
