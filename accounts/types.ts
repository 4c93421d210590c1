/**
 * Who is calling, and the directory of resellers and their organizations. The API authenticates every request to a
 * Principal; tenant, consent and backup routes use `AccountsDirectory` to check that an organization belongs to the
 * calling reseller (another reseller's ids answer 404, never 403, so ids do not leak).
 */
export type Principal =
  | { kind: 'reseller'; resellerId: string; keyId: string }
  /** An organization's own user: may sign in, but may not manage Entra backups (403 on those routes). */
  | { kind: 'organization-user'; resellerId: string; organizationId: string; keyId: string };

export interface Organization {
  id: string;
  resellerId: string;
  name: string;
  createdAt: string;
}

export interface AccountsDirectory {
  /** Resolves a presented API key (the whole secret string) to its principal; undefined when unknown or revoked. */
  authenticate(apiKey: string): Promise<Principal | undefined>;
  getOrganization(resellerId: string, organizationId: string): Promise<Organization | undefined>;
  listOrganizations(resellerId: string): Promise<Organization[]>;
  /** Creates an organization of that reseller; `id` may be given so a retried request does not create two. */
  createOrganization(resellerId: string, input: { name: string; id?: string }): Promise<Organization>;
}

export interface Reseller {
  id: string;
  name: string;
  createdAt: string;
}

export type ApiKeyRole = 'reseller' | 'organization-user';

/** What is stored about an API key: never the secret, only its SHA-256 (hex). */
export interface ApiKeyRecord {
  keyId: string;
  secretHash: string;
  role: ApiKeyRole;
  /** Set for organization users. */
  organizationId?: string;
  createdAt: string;
  revokedAt?: string;
}

/** An API key as listed to operators: without even the hash. */
export type ApiKeySummary = Omit<ApiKeyRecord, 'secretHash'>;

export type AuditOutcome = 'succeeded' | 'refused' | 'failed';

export interface AuditEntry {
  at: string;
  /** `reseller:{id}/key:{keyId}`, `organization-user:…`, `operator`, `system` */
  actor: string;
  /** e.g. `tenant.create`, `tenant.plan.change`, `consent.callback` */
  action: string;
  /** e.g. `tenant:{id}` */
  target: string;
  outcome: AuditOutcome;
  /** HTTP status or a short reason; never secrets. */
  detail?: string;
  resellerId?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  list(resellerId: string, options?: { limit?: number }): Promise<AuditEntry[]>;
}
