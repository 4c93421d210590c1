/** What the portal reads from the API (the shapes of api/openapi/paths). */
export interface Principal {
  kind: 'reseller' | 'organization-user';
  resellerId: string;
  organizationId?: string;
  keyId: string;
}

export interface Session {
  principal: Principal;
  expiresAt?: string;
  csrfToken?: string;
}

export interface Organization {
  id: string;
  name: string;
}

export interface LastBackup {
  workflowId: string;
  status: 'running' | 'completed' | 'failed' | 'incomplete';
  at: string;
  detail?: string;
  objects?: number;
  skippedTypes?: string[];
}

export interface TenantItem {
  tenantId: string;
  organizationId: string;
  directory: string;
  displayName?: string;
  plan: 'backup' | 'archiver';
  status: 'awaiting-consent' | 'active' | 'reauthorization-required';
  reason?: string;
  storageRegion?: string;
  backupApp: { state: string; reason?: string; requestExpiresAt?: string };
  restoreApp: { state: string; reason?: string; mode: 'none' | 'permanent' | 'one-time' };
  lastBackup?: LastBackup;
  nextBackupAt?: string;
  createdAt?: string;
}

export interface TenantPage {
  tenants: TenantItem[];
  total: number;
  nextCursor?: string;
}

export interface Job {
  workflowId: string;
  kind?: string;
  tenantId?: string;
  status: string;
  temporalStatus: string;
  startedAt: string;
  closedAt?: string;
  error?: string;
  detail?: string;
  /** Why the job ended as it did, or what an onboarding job waits for, in words. */
  reason?: string;
  /** Onboarding: when the consent request expires. */
  expiresAt?: string;
  progress?: {
    typesTotal: number;
    typesDone: number;
    running: string[];
    objectsRead: number;
    requests: number;
    throttled: number;
    throttleWaitMs: number;
    skipped: { type: string; reason: string; detail?: string }[];
  };
}
