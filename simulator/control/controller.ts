import { randomUUID } from 'node:crypto';
import { SimState, RequestLogEntry } from '../state';
import { generateTenant } from '../seed/generate-tenant';
import { RegisterAppInput, RegisteredApp, describeApp } from '../identity/apps';
import { grantConsent, revokeConsent, RevokeMode } from '../identity/consent';
import { ConsentMode, EntityKind, Json, TenantSize } from '../store/types';
import { ThrottleConfig, UsageCounters, EarlyRetry } from '../throttling/budget';
import { FaultRule, FaultStatus, LatencyModel } from '../faults/faults';
import {
  recordAppRoleAssignment,
  recordApplicationUpdate,
  recordObjectChange,
  recordRelationChange,
  type Initiator,
} from '../graph/audit-log';
import { addAppRoleAssignment } from '../identity/consent';

/** Control-API changes are audited as an administrator's, the way portal changes are. */
const ADMIN: Initiator = { admin: true };

export interface CreateTenantInput {
  seed?: number;
  users?: number;
  id?: string;
  displayName?: string;
  domainPrefix?: string;
  consentMode?: ConsentMode;
  /** Client ids of registered apps to consent to at creation. */
  consentTo?: string[];
}

export interface TenantSummary {
  id: string;
  displayName: string;
  defaultDomain: string;
  size: TenantSize;
  consentMode: ConsentMode;
  counts: Record<string, number>;
}

export interface ObjectInfo {
  id: string;
  kind: EntityKind;
  data: Json;
  deleted: boolean;
  deletedDateTime?: string;
}

export class SimulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** In-process control surface; the HTTP control API (/_control) maps one route to each method. */
export class SimulatorControl {
  constructor(private readonly state: SimState) {}

  private tenant(id: string) {
    const t = this.state.findTenant(id);
    if (!t) throw new SimulatorError(404, `tenant ${id} not found`);
    return t;
  }

  private summary(id: string): TenantSummary {
    const t = this.tenant(id);
    return {
      id: t.id,
      displayName: t.displayName,
      defaultDomain: t.defaultDomain,
      size: t.size,
      consentMode: t.consentMode,
      counts: t.counts(),
    };
  }

  createTenant(input: CreateTenantInput = {}): TenantSummary {
    const seed = input.seed ?? this.state.seed + this.state.tenants.size + 1;
    const t = generateTenant({
      seed,
      users: input.users ?? 100,
      id: input.id ?? randomUUID(),
      displayName: input.displayName,
      domainPrefix: input.domainPrefix,
      now: this.state.clock.now(),
    });
    if (this.state.findTenant(t.id) || this.state.findTenant(t.defaultDomain))
      throw new SimulatorError(409, 'tenant exists');
    t.consentMode = input.consentMode ?? 'page';
    this.state.tenants.set(t.id, t);
    for (const clientId of input.consentTo ?? []) this.grantConsent(t.id, clientId);
    return this.summary(t.id);
  }

  listTenants(): TenantSummary[] {
    return [...this.state.tenants.keys()].map((id) => this.summary(id));
  }

  getTenant(tenantId: string): TenantSummary {
    return this.summary(tenantId);
  }

  deleteTenant(tenantId: string): void {
    this.state.tenants.delete(this.tenant(tenantId).id);
  }

  registerApp(input: RegisterAppInput): RegisteredApp {
    if (input.clientId && this.state.apps.get(input.clientId)) throw new SimulatorError(409, 'app exists');
    return this.state.apps.register(input);
  }

  listApps(): RegisteredApp[] {
    return [...this.state.apps.apps.values()].map((a) => describeApp(a));
  }

  grantConsent(tenantId: string, clientId: string): { servicePrincipalId: string } {
    const app = this.state.apps.get(clientId);
    if (!app) throw new SimulatorError(404, `app ${clientId} not registered`);
    const sp = grantConsent(this.tenant(tenantId), app, this.state.publisherTenantId, this.state.clock.iso());
    return { servicePrincipalId: sp.id };
  }

  /** mode 'assignments' (default): Graph answers 403; 'servicePrincipal': token endpoint answers AADSTS7000229. */
  revokeConsent(tenantId: string, clientId: string, mode: RevokeMode = 'assignments'): { revoked: boolean } {
    return { revoked: revokeConsent(this.tenant(tenantId), clientId, mode, this.state.clock.iso()) };
  }

  setConsentMode(tenantId: string, mode: ConsentMode): void {
    if (!['accept', 'decline', 'page'].includes(mode))
      throw new SimulatorError(400, 'mode must be accept, decline or page');
    this.tenant(tenantId).consentMode = mode;
  }

  getObject(tenantId: string, id: string): ObjectInfo {
    const o = this.tenant(tenantId).getAny(id);
    if (!o) throw new SimulatorError(404, `object ${id} not found`);
    return { id: o.id, kind: o.kind, data: o.data, deleted: !!o.deletedDateTime, deletedDateTime: o.deletedDateTime };
  }

  listObjects(tenantId: string, kind: EntityKind, opts: { limit?: number } = {}): ObjectInfo[] {
    return this.tenant(tenantId)
      .list(kind)
      .slice(0, opts.limit ?? 1000)
      .map((o) => ({ id: o.id, kind: o.kind, data: o.data, deleted: false }));
  }

  /** Direct mutation, bypassing Graph permissions and throttling (as if an admin changed the tenant). */
  createObject(tenantId: string, kind: EntityKind, data: Json): ObjectInfo {
    const t = this.tenant(tenantId);
    const id = typeof data.id === 'string' ? data.id : randomUUID();
    const now = this.state.clock.iso();
    const defaults: Json =
      kind === 'user' || kind === 'group' || kind === 'application' ? { createdDateTime: now } : {};
    if (kind === 'application' && !data.appId) defaults.appId = randomUUID();
    const o = t.insert(kind, id, { ...defaults, ...data, id });
    if (kind === 'appRoleAssignment') {
      t.grantVersion++;
      recordAppRoleAssignment(t, this.state.clock.isoPrecise(), ADMIN, o, true);
    } else recordObjectChange(t, this.state.clock.isoPrecise(), ADMIN, o, 'Add');
    return this.getObject(tenantId, o.id);
  }

  updateObject(tenantId: string, id: string, patch: Json): ObjectInfo {
    const t = this.tenant(tenantId);
    const o = t.get(id);
    if (!o) throw new SimulatorError(404, `object ${id} not found`);
    t.update(o, patch);
    recordObjectChange(t, this.state.clock.isoPrecise(), ADMIN, o, 'Update', Object.keys(patch));
    return this.getObject(tenantId, id);
  }

  /** Soft delete (recycle bin, delta reason "changed") or, with hard, permanent (delta reason "deleted"). */
  deleteObject(tenantId: string, id: string, opts: { hard?: boolean } = {}): void {
    const t = this.tenant(tenantId);
    const live = t.get(id);
    const now = this.state.clock.iso();
    if (live) {
      if (live.kind === 'appRoleAssignment')
        recordAppRoleAssignment(t, this.state.clock.isoPrecise(), ADMIN, live, false);
      t.remove(live, now, !!opts.hard);
      recordObjectChange(t, this.state.clock.isoPrecise(), ADMIN, live, 'Delete');
      if (live.kind === 'servicePrincipal' || live.kind === 'appRoleAssignment') t.grantVersion++;
      return;
    }
    if (opts.hard && t.permanentlyDelete(id)) return;
    throw new SimulatorError(404, `object ${id} not found`);
  }

  restoreObject(tenantId: string, id: string): ObjectInfo {
    const t = this.tenant(tenantId);
    const o = t.restore(id);
    if (!o) throw new SimulatorError(404, `object ${id} not in the recycle bin`);
    t.grantVersion++;
    recordObjectChange(t, this.state.clock.isoPrecise(), ADMIN, o, 'Restore');
    return this.getObject(tenantId, id);
  }

  addMember(tenantId: string, groupId: string, memberId: string): { added: boolean } {
    const t = this.tenant(tenantId);
    const group = t.get(groupId);
    const member = t.get(memberId);
    if (!group || !member) throw new SimulatorError(404, 'group or member not found');
    const added = t.addMember(groupId, memberId);
    if (added) recordRelationChange(t, this.state.clock.isoPrecise(), ADMIN, group, 'members', member, true);
    return { added };
  }

  removeMember(tenantId: string, groupId: string, memberId: string): { removed: boolean } {
    const t = this.tenant(tenantId);
    const removed = t.removeMember(groupId, memberId);
    const group = t.get(groupId);
    const member = t.getAny(memberId);
    if (removed && group && member)
      recordRelationChange(t, this.state.clock.isoPrecise(), ADMIN, group, 'members', member, false);
    return { removed };
  }

  /** Adds an owner to a group, application or service principal (as `owners/$ref` does), audited. */
  addOwner(tenantId: string, parentId: string, ownerId: string): { added: boolean } {
    const t = this.tenant(tenantId);
    const parent = t.get(parentId);
    const owner = t.get(ownerId);
    if (!parent || !owner) throw new SimulatorError(404, 'object or owner not found');
    if (!['group', 'application', 'servicePrincipal'].includes(parent.kind))
      throw new SimulatorError(400, `a ${parent.kind} has no owners`);
    const set = t.ownerSet(parentId);
    if (set.has(ownerId)) return { added: false };
    set.add(ownerId);
    t.touch(parentId);
    recordRelationChange(t, this.state.clock.isoPrecise(), ADMIN, parent, 'owners', owner, true);
    return { added: true };
  }

  removeOwner(tenantId: string, parentId: string, ownerId: string): { removed: boolean } {
    const t = this.tenant(tenantId);
    const parent = t.get(parentId);
    const owner = t.getAny(ownerId);
    if (!parent || !t.owners.get(parentId)?.delete(ownerId)) return { removed: false };
    t.touch(parentId);
    if (owner) recordRelationChange(t, this.state.clock.isoPrecise(), ADMIN, parent, 'owners', owner, false);
    return { removed: true };
  }

  /** Grants an app role of `resourceId` (a service principal) to a user, group or service principal, audited. */
  assignAppRole(tenantId: string, input: { principalId: string; resourceId: string; appRoleId: string }): ObjectInfo {
    const t = this.tenant(tenantId);
    const principal = t.get(input.principalId);
    const resource = t.get(input.resourceId, 'servicePrincipal');
    if (!principal || !resource) throw new SimulatorError(404, 'principal or resource not found');
    const now = this.state.clock.iso();
    const a = addAppRoleAssignment(t, principal, resource, input.appRoleId, now);
    recordAppRoleAssignment(t, this.state.clock.isoPrecise(), ADMIN, a, true);
    return this.getObject(tenantId, a.id);
  }

  /** Adds a federated identity credential to an application (as the Graph POST does), audited. */
  addFederatedIdentityCredential(tenantId: string, applicationId: string, data: Json): ObjectInfo {
    const t = this.tenant(tenantId);
    const app = t.get(applicationId, 'application');
    if (!app) throw new SimulatorError(404, `application ${applicationId} not found`);
    const id = randomUUID();
    const cred = {
      id,
      kind: 'federatedIdentityCredential' as const,
      data: { description: null, ...data, id },
      seq: ++t.seq,
    };
    t.federatedIdentityCredentials.set(app.id, [...(t.federatedIdentityCredentials.get(app.id) ?? []), cred]);
    t.touch(app.id, 'federatedIdentityCredentials');
    recordApplicationUpdate(t, this.state.clock.isoPrecise(), ADMIN, app, 'FederatedIdentityCredentials');
    return { id, kind: cred.kind, data: cred.data, deleted: false };
  }

  /** Audit-log retention of the tenant in days (Free 7, P1/P2 30): older records are no longer returned. */
  setAuditRetention(tenantId: string, days: number): void {
    if (!(days >= 0)) throw new SimulatorError(400, 'days must be a number ≥ 0');
    this.tenant(tenantId).auditRetentionDays = days;
  }

  listMembers(tenantId: string, groupId: string): string[] {
    return [...(this.tenant(tenantId).members.get(groupId) ?? [])];
  }

  /** Every delta token issued so far in the tenant answers 410 Gone. */
  expireDeltaTokens(tenantId: string): void {
    this.tenant(tenantId).deltaTokensNotBefore = this.state.clock.now() + 1;
  }

  /** Every access token issued so far for the tenant answers 401 InvalidAuthenticationToken. */
  expireAccessTokens(tenantId: string): void {
    this.tenant(tenantId).accessTokensNotBefore = this.state.clock.now() + 1;
  }

  /**
   * Moves simulated time forward (access tokens expire after 1 h, delta tokens after 7 days, recycle-bin items are
   * permanently deleted 30 days after their deletion —
   * https://learn.microsoft.com/en-us/graph/api/resources/directory?view=graph-rest-1.0).
   */
  advanceClock(ms: number): { now: string } {
    this.state.clock.advance(ms);
    const now = this.state.clock.now();
    for (const t of this.state.tenants.values()) t.purgeExpired(now);
    return { now: this.state.clock.iso() };
  }

  requestLog(
    filter: { tenantId?: string; appId?: string; sinceSeq?: number; kind?: RequestLogEntry['kind'] } = {},
  ): RequestLogEntry[] {
    return this.state.requestLog.filter(
      (e) =>
        (!filter.tenantId || e.tenantId === filter.tenantId) &&
        (!filter.appId || e.appId === filter.appId) &&
        (!filter.kind || e.kind === filter.kind) &&
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq),
    );
  }

  clearRequestLog(): void {
    this.state.requestLog.length = 0;
  }

  usage(filter: { tenantId?: string; appId?: string } = {}): { counters: UsageCounters[]; earlyRetries: EarlyRetry[] } {
    return {
      counters: this.state.throttle.usage(filter),
      earlyRetries: this.state.throttle.earlyRetries.filter(
        (e) => (!filter.tenantId || e.tenantId === filter.tenantId) && (!filter.appId || e.appId === filter.appId),
      ),
    };
  }

  /** Changes the throttling model globally, or for one tenant when tenantId is given. */
  setThrottling(config: Partial<ThrottleConfig>, tenantId?: string): ThrottleConfig {
    if (tenantId) {
      const id = this.tenant(tenantId).id;
      this.state.throttle.tenantOverrides.set(id, {
        ...(this.state.throttle.tenantOverrides.get(id) ?? {}),
        ...config,
      });
      return this.state.throttle.configFor(id);
    }
    const cur = this.state.throttle.config;
    this.state.throttle.config = { ...cur, ...config, limits: { ...cur.limits, ...(config.limits ?? {}) } };
    return this.state.throttle.config;
  }

  /** Clears usage counters, windows, Retry-After state and the early-retry record. */
  resetThrottling(): void {
    this.state.throttle.reset();
  }

  setFaults(rules: FaultRule[], seed?: number): void {
    this.state.faults.set(rules, seed);
  }

  addFault(rule: FaultRule): void {
    this.state.faults.add(rule);
  }

  clearFaults(): void {
    this.state.faults.clear();
  }

  faultStatus(): FaultStatus[] {
    return this.state.faults.status();
  }

  setLatency(model: LatencyModel): void {
    this.state.faults.latency = { ...model, baseMs: model.baseMs ?? 0, jitterMs: model.jitterMs ?? 0 };
  }

  info(): { baseUrl: string; authorityHost: string; graphBaseUrl: string; now: string; publisherTenantId: string } {
    return {
      baseUrl: this.state.baseUrl,
      authorityHost: this.state.authorityHost,
      graphBaseUrl: this.state.baseUrl,
      now: this.state.clock.iso(),
      publisherTenantId: this.state.publisherTenantId,
    };
  }
}
