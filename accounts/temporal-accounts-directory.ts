import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ApiKeyRecord, ApiKeySummary, AccountsDirectory, Organization, Principal, Reseller } from './types';
import { generateApiKey, isAccountId, newAccountId, parseApiKey, secretMatches } from './api-key';
import {
  apiKeyRecordQuery,
  apiKeysQuery,
  createApiKeyUpdate,
  createOrganizationUpdate,
  organizationsQuery,
  resellerAccountWorkflowId,
  resellerQuery,
  revokeApiKeyUpdate,
} from '../workflows/reseller-account-messages';
import { resellerAccountWorkflow } from '../workflows/reseller-account';
import { jobKindKey, resellerIdKey } from '../temporal/search-attributes';

export interface TemporalAccountsDirectoryOptions {
  taskQueue: string;
  /**
   * How long a key record or organization list read from Temporal is reused. Revoking or rotating a key through
   * another process takes effect within this time; through this directory, at once.
   */
  cacheTtlMs?: number;
  now?: () => Date;
}

interface Cached<T> {
  value: T;
  expiresAt: number;
}

/** Resellers, organizations and API keys held by one `resellerAccountWorkflow` per reseller. */
export class TemporalAccountsDirectory implements AccountsDirectory {
  private readonly keyCache = new Map<string, Cached<ApiKeyRecord | undefined>>();
  private readonly organizationCache = new Map<string, Cached<Organization[]>>();
  private readonly ttl: number;
  private readonly now: () => Date;

  constructor(
    private readonly client: Client,
    private readonly options: TemporalAccountsDirectoryOptions,
  ) {
    this.ttl = options.cacheTtlMs ?? 3000;
    this.now = options.now ?? (() => new Date());
  }

  async authenticate(apiKey: string): Promise<Principal | undefined> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const record = await this.cached(this.keyCache, `${parsed.resellerId}/${parsed.keyId}`, () =>
      this.query(parsed.resellerId, (h) => h.query(apiKeyRecordQuery, parsed.keyId)),
    );
    if (!record || record.revokedAt || !secretMatches(parsed.secret, record.secretHash)) return undefined;
    return record.role === 'reseller'
      ? { kind: 'reseller', resellerId: parsed.resellerId, keyId: record.keyId }
      : {
          kind: 'organization-user',
          resellerId: parsed.resellerId,
          organizationId: record.organizationId!,
          keyId: record.keyId,
        };
  }

  async listOrganizations(resellerId: string): Promise<Organization[]> {
    return (await this.organizations(resellerId, false)) ?? [];
  }

  async getOrganization(resellerId: string, organizationId: string): Promise<Organization | undefined> {
    const find = (list?: Organization[]) => list?.find((o) => o.id === organizationId);
    // Organizations are never deleted, so only a miss needs a fresh read (it may have been created elsewhere).
    return find(await this.organizations(resellerId, false)) ?? find(await this.organizations(resellerId, true));
  }

  async createOrganization(resellerId: string, input: { name: string; id?: string }): Promise<Organization> {
    const organization = await this.handle(resellerId).executeUpdate(createOrganizationUpdate, {
      args: [{ id: input.id ?? newAccountId('org'), name: input.name, createdAt: this.now().toISOString() }],
    });
    this.organizationCache.delete(resellerId);
    return organization;
  }

  /** Starts the reseller's account workflow. */
  async createReseller(input: { name: string; id?: string }): Promise<Reseller> {
    const reseller: Reseller = {
      id: input.id ?? newAccountId('rsl'),
      name: input.name,
      createdAt: this.now().toISOString(),
    };
    if (!isAccountId(reseller.id)) throw new Error(`reseller id '${reseller.id}' must match [a-z0-9-]{1,64}`);
    if (reseller.name.trim() === '') throw new Error('reseller name is empty');
    await this.client.workflow.start(resellerAccountWorkflow, {
      taskQueue: this.options.taskQueue,
      workflowId: resellerAccountWorkflowId(reseller.id),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: [
        { key: resellerIdKey, value: reseller.id },
        { key: jobKindKey, value: 'reseller-account' },
      ],
      args: [{ state: { reseller, organizations: [], apiKeys: [] } }],
    });
    return reseller;
  }

  async getReseller(resellerId: string): Promise<Reseller | undefined> {
    return this.query(resellerId, (h) => h.query(resellerQuery));
  }

  /**
   * Creates a key and returns it: the only time the whole key exists. Only its hash is sent to Temporal.
   * Without `organizationId` the key acts for the reseller; with it, as a user of that organization.
   */
  async createApiKey(resellerId: string, organizationId?: string): Promise<{ apiKey: string; key: ApiKeySummary }> {
    const { apiKey, keyId, secretHash } = generateApiKey(resellerId);
    const key = await this.handle(resellerId).executeUpdate(createApiKeyUpdate, {
      args: [
        {
          keyId,
          secretHash,
          role: organizationId ? 'organization-user' : 'reseller',
          organizationId,
          createdAt: this.now().toISOString(),
        },
      ],
    });
    return { apiKey, key };
  }

  async revokeApiKey(resellerId: string, keyId: string): Promise<ApiKeySummary> {
    const key = await this.handle(resellerId).executeUpdate(revokeApiKeyUpdate, {
      args: [{ keyId, revokedAt: this.now().toISOString() }],
    });
    this.keyCache.delete(`${resellerId}/${keyId}`);
    return key;
  }

  /** A new key with the same role, then the old one revoked: the caller switches to the returned key. */
  async rotateApiKey(resellerId: string, keyId: string): Promise<{ apiKey: string; key: ApiKeySummary }> {
    const old = (await this.listApiKeys(resellerId)).find((k) => k.keyId === keyId);
    if (!old) throw new Error(`reseller '${resellerId}' has no key '${keyId}'`);
    if (old.revokedAt) throw new Error(`key '${keyId}' is already revoked`);
    const created = await this.createApiKey(resellerId, old.organizationId);
    await this.revokeApiKey(resellerId, keyId);
    return created;
  }

  async listApiKeys(resellerId: string): Promise<ApiKeySummary[]> {
    return (await this.query(resellerId, (h) => h.query(apiKeysQuery))) ?? [];
  }

  private handle(resellerId: string) {
    if (!isAccountId(resellerId)) throw new Error(`'${resellerId}' is not a reseller id`);
    return this.client.workflow.getHandle<typeof resellerAccountWorkflow>(resellerAccountWorkflowId(resellerId));
  }

  private organizations(resellerId: string, fresh: boolean): Promise<Organization[] | undefined> {
    if (fresh) this.organizationCache.delete(resellerId);
    return this.cached(this.organizationCache, resellerId, async () => {
      return (await this.query(resellerId, (h) => h.query(organizationsQuery))) ?? [];
    });
  }

  /** Runs a query; an unknown reseller (no such workflow, or a malformed id) is undefined rather than an error. */
  private async query<T>(
    resellerId: string,
    run: (handle: ReturnType<TemporalAccountsDirectory['handle']>) => Promise<T>,
  ): Promise<T | undefined> {
    if (!isAccountId(resellerId)) return undefined;
    try {
      return await run(this.handle(resellerId));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  private async cached<T>(cache: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && hit.expiresAt > now) return hit.value;
    const value = await load();
    cache.set(key, { value, expiresAt: now + this.ttl });
    // Bounded: unknown keys presented by strangers must not grow the cache without limit.
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    return value;
  }
}
