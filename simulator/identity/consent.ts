import { randomUUID } from 'node:crypto';
import type * as MG from '@microsoft/microsoft-graph-types';
import { TenantStore } from '../store/tenant';
import { StoredObject } from '../store/types';
import { PublisherApp } from './apps';
import { GRAPH_APP_ID, GRAPH_PERMISSIONS, permissionId } from './permissions';

export function findServicePrincipalByAppId(tenant: TenantStore, appId: string): StoredObject | undefined {
  for (const sp of tenant.collection('servicePrincipal').values()) if (sp.data.appId === appId) return sp;
  return undefined;
}

/** The Microsoft Graph first-party service principal: its appRoles are the application permissions. */
export function ensureGraphServicePrincipal(tenant: TenantStore, now: string, id: string = randomUUID()): StoredObject {
  const existing = findServicePrincipalByAppId(tenant, GRAPH_APP_ID);
  if (existing) return existing;
  const sp: MG.ServicePrincipal = {
    id,
    appId: GRAPH_APP_ID,
    displayName: 'Microsoft Graph',
    appDisplayName: 'Microsoft Graph',
    servicePrincipalType: 'Application',
    accountEnabled: true,
    appOwnerOrganizationId: 'f8cdef31-a31e-4b4a-93e4-5f571e91255a',
    servicePrincipalNames: [GRAPH_APP_ID, 'https://graph.microsoft.com'],
    tags: [],
    appRoles: GRAPH_PERMISSIONS.map((value) => ({
      id: permissionId(value),
      value,
      displayName: value,
      description: `Allows the app to use ${value} without a signed-in user.`,
      allowedMemberTypes: ['Application'],
      isEnabled: true,
      origin: 'Application',
    })),
    createdDateTime: now,
  } as MG.ServicePrincipal & { createdDateTime: string };
  return tenant.insert('servicePrincipal', id, sp as unknown as Record<string, unknown>);
}

/**
 * Admin consent for an app: a service principal in the tenant plus one app-role assignment per required
 * Graph application permission (https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent).
 */
export function grantConsent(
  tenant: TenantStore,
  app: PublisherApp,
  publisherTenantId: string,
  now: string,
): StoredObject {
  const graph = ensureGraphServicePrincipal(tenant, now);
  let sp = findServicePrincipalByAppId(tenant, app.clientId);
  if (!sp) {
    const id = randomUUID();
    const data: MG.ServicePrincipal & { createdDateTime: string } = {
      id,
      appId: app.clientId,
      displayName: app.displayName,
      appDisplayName: app.displayName,
      servicePrincipalType: 'Application',
      accountEnabled: true,
      appOwnerOrganizationId: publisherTenantId,
      servicePrincipalNames: [app.clientId],
      replyUrls: app.redirectUris,
      signInAudience: 'AzureADMultipleOrgs',
      tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
      appRoles: [],
      createdDateTime: now,
    };
    sp = tenant.insert('servicePrincipal', id, data as unknown as Record<string, unknown>);
  }
  const have = new Set(assignmentsOf(tenant, sp.id).map((a) => a.data.appRoleId));
  for (const role of app.requiredRoles) {
    const appRoleId = permissionId(role);
    if (have.has(appRoleId)) continue;
    addAppRoleAssignment(tenant, sp, graph, appRoleId, now);
  }
  return sp;
}

export function addAppRoleAssignment(
  tenant: TenantStore,
  principal: StoredObject,
  resource: StoredObject,
  appRoleId: string,
  now: string,
): StoredObject {
  // Real assignment ids are base64url strings, not GUIDs.
  const id = Buffer.from(randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '').slice(0, 16), 'hex').toString(
    'base64url',
  );
  const data: MG.AppRoleAssignment & { createdDateTime: string } = {
    id,
    appRoleId,
    createdDateTime: now,
    principalDisplayName: principal.data.displayName as string,
    principalId: principal.id,
    principalType:
      principal.kind === 'servicePrincipal' ? 'ServicePrincipal' : principal.kind === 'group' ? 'Group' : 'User',
    resourceDisplayName: resource.data.displayName as string,
    resourceId: resource.id,
  };
  tenant.grantVersion++;
  return tenant.insert('appRoleAssignment', id, data as unknown as Record<string, unknown>);
}

export function assignmentsOf(tenant: TenantStore, principalId: string): StoredObject[] {
  const out: StoredObject[] = [];
  for (const a of tenant.collection('appRoleAssignment').values()) if (a.data.principalId === principalId) out.push(a);
  return out;
}

export function assignmentsTo(tenant: TenantStore, resourceId: string): StoredObject[] {
  const out: StoredObject[] = [];
  for (const a of tenant.collection('appRoleAssignment').values()) if (a.data.resourceId === resourceId) out.push(a);
  return out;
}

export type RevokeMode = 'assignments' | 'servicePrincipal';

/**
 * Revokes consent. 'assignments': app-role assignments removed, tokens still issued without roles -> Graph 403
 * (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments?view=graph-rest-1.0).
 * 'servicePrincipal': the SP is deleted (hard) -> token endpoint 401 AADSTS7000229
 * (https://github.com/microsoft/teams-sdk/blob/main/teams.md/docs/main/teams/app-authentication/troubleshooting.md).
 */
export function revokeConsent(tenant: TenantStore, appId: string, mode: RevokeMode, now: string): boolean {
  const sp = findServicePrincipalByAppId(tenant, appId);
  if (!sp) return false;
  for (const a of assignmentsOf(tenant, sp.id)) tenant.remove(a, now, true);
  tenant.grantVersion++;
  if (mode === 'servicePrincipal') tenant.remove(sp, now, true);
  return true;
}

/** Graph application permissions currently granted to an app in a tenant (cached per grant version). */
export function grantedRoles(tenant: TenantStore, appId: string): Set<string> {
  const cacheKey = `${tenant.grantVersion}:${appId}`;
  const hit = tenant.grantCache.get(cacheKey);
  if (hit) return hit;
  const roles = new Set<string>();
  const sp = findServicePrincipalByAppId(tenant, appId);
  const graph = findServicePrincipalByAppId(tenant, GRAPH_APP_ID);
  if (sp && graph) {
    const byId = new Map(
      ((graph.data.appRoles as MG.AppRole[] | undefined) ?? []).map((r) => [r.id as string, r.value as string]),
    );
    for (const a of assignmentsOf(tenant, sp.id)) {
      if (a.data.resourceId !== graph.id) continue;
      const v = byId.get(a.data.appRoleId as string);
      if (v) roles.add(v);
    }
  }
  if (tenant.grantCache.size > 1000) tenant.grantCache.clear();
  tenant.grantCache.set(cacheKey, roles);
  return roles;
}
