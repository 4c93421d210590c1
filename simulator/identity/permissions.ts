import { createHash } from 'node:crypto';

/**
 * Microsoft Graph application permissions (app roles of the Microsoft Graph service principal) the simulator knows.
 * Ids are derived from the name (stable across runs) — they are NOT Microsoft's real app-role GUIDs.
 */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

export const GRAPH_PERMISSIONS = [
  'User.Read.All',
  'User.ReadBasic.All',
  'User.ReadWrite.All',
  'User.DeleteRestore.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Application.ReadWrite.OwnedBy',
  'AppRoleAssignment.ReadWrite.All',
  'DelegatedPermissionGrant.Read.All',
  'DelegatedPermissionGrant.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'Policy.Read.All',
  'Policy.ReadWrite.ConditionalAccess',
  'Policy.ReadWrite.Authorization',
  'Policy.ReadWrite.CrossTenantAccess',
  'Policy.Read.AuthenticationMethod',
  'Policy.ReadWrite.AuthenticationMethod',
  'RoleManagement.Read.Directory',
  'RoleManagement.Read.All',
  'RoleManagement.ReadWrite.Directory',
  'AdministrativeUnit.Read.All',
  'AdministrativeUnit.ReadWrite.All',
  'Device.Read.All',
  'Device.ReadWrite.All',
  'Domain.Read.All',
  'Domain.ReadWrite.All',
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'AuditLog.Read.All',
] as const;

export type GraphPermission = (typeof GRAPH_PERMISSIONS)[number];

export function permissionId(name: string): string {
  const h = createHash('sha1').update(`graph-app-role:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Least-privileged read permissions for a backup (https://learn.microsoft.com/en-us/graph/permissions-reference). */
export const BACKUP_APP_ROLES: GraphPermission[] = [
  'User.Read.All',
  'Group.Read.All',
  'Application.Read.All',
  'Directory.Read.All',
  'Policy.Read.All',
  'RoleManagement.Read.Directory',
  'AdministrativeUnit.Read.All',
  'Policy.Read.AuthenticationMethod',
  'Device.Read.All',
  'AuditLog.Read.All',
];

export const RESTORE_APP_ROLES: GraphPermission[] = [
  'User.ReadWrite.All',
  'Group.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'Application.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'DelegatedPermissionGrant.ReadWrite.All',
  'Directory.ReadWrite.All',
  'Policy.Read.All',
  'Policy.ReadWrite.ConditionalAccess',
  'Policy.ReadWrite.Authorization',
  'Policy.ReadWrite.CrossTenantAccess',
  'Policy.ReadWrite.AuthenticationMethod',
  'RoleManagement.ReadWrite.Directory',
  'AdministrativeUnit.ReadWrite.All',
  'Device.ReadWrite.All',
];
