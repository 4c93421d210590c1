import type { CreateTenantInput, TenantSummary, ObjectInfo } from './control/controller';
import type { RegisterAppInput, RegisteredApp } from './identity/apps';
import type { RequestLogEntry } from './state';
import type { ThrottleConfig, UsageCounters, EarlyRetry } from './throttling/budget';
import type { FaultRule, FaultStatus, LatencyModel } from './faults/faults';
import type { ConsentMode, EntityKind, Json } from './store/types';

export type { CreateTenantInput, TenantSummary, ObjectInfo, RegisterAppInput, RegisteredApp, RequestLogEntry };
export type {
  ThrottleConfig,
  UsageCounters,
  EarlyRetry,
  FaultRule,
  FaultStatus,
  LatencyModel,
  ConsentMode,
  EntityKind,
};

/**
 * Typed client for a simulator's HTTP control API (`{baseUrl}/_control`), for processes that did not start it
 * in-process (demo, benchmarks, API tests). Uses global fetch; the process must trust the simulator's CA
 * (NODE_EXTRA_CA_CERTS).
 */
export class SimulatorControlClient {
  readonly controlUrl: string;

  constructor(baseOrControlUrl: string) {
    const u = baseOrControlUrl.replace(/\/$/, '');
    this.controlUrl = u.endsWith('/_control') ? u : `${u}/_control`;
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | number | undefined>,
  ): Promise<T> {
    const qs = query
      ? '?' +
        new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined) as [string, string][]).toString()
      : '';
    const res = await fetch(`${this.controlUrl}${path}${qs}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator control ${method} ${path} -> ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  info() {
    return this.call<{
      baseUrl: string;
      authorityHost: string;
      graphBaseUrl: string;
      now: string;
      publisherTenantId: string;
    }>('GET', '/info');
  }
  createTenant(input: CreateTenantInput = {}) {
    return this.call<TenantSummary>('POST', '/tenants', input);
  }
  listTenants() {
    return this.call<TenantSummary[]>('GET', '/tenants');
  }
  getTenant(tenantId: string) {
    return this.call<TenantSummary>('GET', `/tenants/${tenantId}`);
  }
  deleteTenant(tenantId: string) {
    return this.call<void>('DELETE', `/tenants/${tenantId}`);
  }
  registerApp(input: RegisterAppInput) {
    return this.call<RegisteredApp>('POST', '/apps', input);
  }
  listApps() {
    return this.call<RegisteredApp[]>('GET', '/apps');
  }
  grantConsent(tenantId: string, clientId: string) {
    return this.call<{ servicePrincipalId: string }>('POST', `/tenants/${tenantId}/consent/${clientId}`);
  }
  revokeConsent(tenantId: string, clientId: string, mode: 'assignments' | 'servicePrincipal' = 'assignments') {
    return this.call<{ revoked: boolean }>('DELETE', `/tenants/${tenantId}/consent/${clientId}`, undefined, { mode });
  }
  setConsentMode(tenantId: string, mode: ConsentMode) {
    return this.call<void>('PUT', `/tenants/${tenantId}/consent-mode`, { mode });
  }
  getObject(tenantId: string, id: string) {
    return this.call<ObjectInfo>('GET', `/tenants/${tenantId}/objects/${id}`);
  }
  listObjects(tenantId: string, kind: EntityKind, limit?: number) {
    return this.call<ObjectInfo[]>('GET', `/tenants/${tenantId}/kinds/${kind}`, undefined, { limit });
  }
  createObject(tenantId: string, kind: EntityKind, data: Json) {
    return this.call<ObjectInfo>('POST', `/tenants/${tenantId}/kinds/${kind}`, data);
  }
  updateObject(tenantId: string, id: string, patch: Json) {
    return this.call<ObjectInfo>('PATCH', `/tenants/${tenantId}/objects/${id}`, patch);
  }
  deleteObject(tenantId: string, id: string, opts: { hard?: boolean } = {}) {
    return this.call<void>('DELETE', `/tenants/${tenantId}/objects/${id}`, undefined, {
      hard: opts.hard ? 'true' : undefined,
    });
  }
  restoreObject(tenantId: string, id: string) {
    return this.call<ObjectInfo>('POST', `/tenants/${tenantId}/objects/${id}/restore`);
  }
  listMembers(tenantId: string, groupId: string) {
    return this.call<string[]>('GET', `/tenants/${tenantId}/groups/${groupId}/members`);
  }
  addMember(tenantId: string, groupId: string, memberId: string) {
    return this.call<{ added: boolean }>('POST', `/tenants/${tenantId}/groups/${groupId}/members/${memberId}`);
  }
  removeMember(tenantId: string, groupId: string, memberId: string) {
    return this.call<{ removed: boolean }>('DELETE', `/tenants/${tenantId}/groups/${groupId}/members/${memberId}`);
  }
  addOwner(tenantId: string, parentId: string, ownerId: string) {
    return this.call<{ added: boolean }>('POST', `/tenants/${tenantId}/objects/${parentId}/owners/${ownerId}`);
  }
  removeOwner(tenantId: string, parentId: string, ownerId: string) {
    return this.call<{ removed: boolean }>('DELETE', `/tenants/${tenantId}/objects/${parentId}/owners/${ownerId}`);
  }
  assignAppRole(tenantId: string, input: { principalId: string; resourceId: string; appRoleId: string }) {
    return this.call<ObjectInfo>('POST', `/tenants/${tenantId}/app-role-assignments`, input);
  }
  addFederatedIdentityCredential(tenantId: string, applicationId: string, data: Json) {
    return this.call<ObjectInfo>(
      'POST',
      `/tenants/${tenantId}/applications/${applicationId}/federated-identity-credentials`,
      data,
    );
  }
  setAuditRetention(tenantId: string, days: number) {
    return this.call<void>('PUT', `/tenants/${tenantId}/audit-retention`, { days });
  }
  expireDeltaTokens(tenantId: string) {
    return this.call<void>('POST', `/tenants/${tenantId}/expire-delta-tokens`);
  }
  expireAccessTokens(tenantId: string) {
    return this.call<void>('POST', `/tenants/${tenantId}/expire-access-tokens`);
  }
  advanceClock(ms: number) {
    return this.call<{ now: string }>('POST', '/clock/advance', { ms });
  }
  requestLog(filter: { tenantId?: string; appId?: string; sinceSeq?: number; kind?: RequestLogEntry['kind'] } = {}) {
    return this.call<RequestLogEntry[]>('GET', '/requests', undefined, filter);
  }
  clearRequestLog() {
    return this.call<void>('DELETE', '/requests');
  }
  usage(filter: { tenantId?: string; appId?: string } = {}) {
    return this.call<{ counters: UsageCounters[]; earlyRetries: EarlyRetry[] }>('GET', '/usage', undefined, filter);
  }
  setThrottling(config: Partial<ThrottleConfig>, tenantId?: string) {
    return this.call<ThrottleConfig>('PUT', '/throttling', config, { tenantId });
  }
  resetThrottling() {
    return this.call<void>('DELETE', '/throttling/state');
  }
  setFaults(rules: FaultRule[], seed?: number) {
    return this.call<void>('PUT', '/faults', { rules, seed });
  }
  addFault(rule: FaultRule) {
    return this.call<void>('POST', '/faults', rule);
  }
  faultStatus() {
    return this.call<FaultStatus[]>('GET', '/faults');
  }
  clearFaults() {
    return this.call<void>('DELETE', '/faults');
  }
  setLatency(model: LatencyModel) {
    return this.call<void>('PUT', '/latency', model);
  }
}
