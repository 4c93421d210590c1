import { EntityKind } from '../store/types';

/**
 * One record per Graph entity set the simulator serves (the catalog style of EntraExporter): path, stored kind,
 * permissions (any one suffices), paging limits, default property set and delta support.
 * Permissions: https://learn.microsoft.com/en-us/graph/permissions-reference and each resource's list/get page.
 */
export interface EntitySet {
  path: string;
  kind: EntityKind;
  /** Name used in @odata.context ($metadata#{contextName}). */
  contextName: string;
  read: string[];
  write: string[];
  defaultTop: number;
  maxTop: number;
  /** Properties returned without $select (undefined = every stored property). */
  defaultSelect?: string[];
  delta: boolean;
  /** Graph does not page directoryRoles (https://learn.microsoft.com/en-us/graph/paging). */
  paged: boolean;
  readOnly: string[];
  required?: string[];
}

const DIR_READ = ['Directory.Read.All', 'Directory.ReadWrite.All'];
const DIR_WRITE = ['Directory.ReadWrite.All'];
/** Role definitions and assignments (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments). */
const ROLE_MANAGEMENT_READ = [
  'RoleManagement.Read.Directory',
  'RoleManagement.Read.All',
  'RoleManagement.ReadWrite.Directory',
  ...DIR_READ,
];

/** https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0 */
export const USER_DEFAULT_SELECT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** Graph pages most collections: 100 a page unless `$top` (at most 999) says otherwise. */
export const PAGED = { defaultTop: 100, maxTop: 999, paged: true };
/** A few it does not page: one answer holds them all (https://learn.microsoft.com/en-us/graph/paging). */
const WHOLE = { defaultTop: 1000, maxTop: 1000, paged: false };

/** An entity set at `path` (its @odata.context name), paged or not, with delta or not. */
const collection = (path: string, kind: EntityKind, paging: typeof PAGED, { delta }: { delta: boolean }) => ({
  path,
  kind,
  contextName: path,
  ...paging,
  delta,
});

export const ENTITY_SETS: EntitySet[] = [
  {
    ...collection('users', 'user', PAGED, { delta: true }),
    read: ['User.Read.All', 'User.ReadBasic.All', 'User.ReadWrite.All', ...DIR_READ],
    write: ['User.ReadWrite.All', ...DIR_WRITE],
    defaultSelect: USER_DEFAULT_SELECT,
    readOnly: ['id', 'createdDateTime', 'deletedDateTime', 'onPremisesSyncEnabled', 'securityIdentifier'],
    required: ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'],
  },
  {
    ...collection('groups', 'group', PAGED, { delta: true }),
    read: ['Group.Read.All', 'Group.ReadWrite.All', ...DIR_READ],
    write: ['Group.ReadWrite.All', ...DIR_WRITE],
    readOnly: [
      'id',
      'createdDateTime',
      'deletedDateTime',
      'renewedDateTime',
      'securityIdentifier',
      'onPremisesSyncEnabled',
    ],
    required: ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'],
  },
  {
    ...collection('applications', 'application', PAGED, { delta: true }),
    read: ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...DIR_READ],
    write: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...DIR_WRITE],
    readOnly: ['id', 'appId', 'createdDateTime', 'deletedDateTime', 'publisherDomain'],
    required: ['displayName'],
  },
  {
    ...collection('servicePrincipals', 'servicePrincipal', PAGED, { delta: true }),
    read: ['Application.Read.All', 'Application.ReadWrite.All', ...DIR_READ],
    write: ['Application.ReadWrite.All', ...DIR_WRITE],
    readOnly: ['id', 'appOwnerOrganizationId', 'deletedDateTime', 'appDisplayName'],
    required: ['appId'],
  },
  {
    ...collection('oauth2PermissionGrants', 'oauth2PermissionGrant', PAGED, { delta: true }),
    read: ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', ...DIR_READ],
    write: ['DelegatedPermissionGrant.ReadWrite.All', ...DIR_WRITE],
    readOnly: ['id'],
    required: ['clientId', 'consentType', 'resourceId', 'scope'],
  },
  {
    ...collection('identity/conditionalAccess/policies', 'conditionalAccessPolicy', PAGED, { delta: false }),
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
    write: ['Policy.ReadWrite.ConditionalAccess'],
    readOnly: ['id', 'createdDateTime', 'modifiedDateTime', 'templateId'],
    required: ['displayName', 'state', 'conditions'],
  },
  {
    ...collection('identity/conditionalAccess/namedLocations', 'namedLocation', PAGED, { delta: false }),
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
    write: ['Policy.ReadWrite.ConditionalAccess'],
    readOnly: ['id', 'createdDateTime', 'modifiedDateTime'],
    required: ['@odata.type', 'displayName'],
  },
  {
    ...collection('directoryRoles', 'directoryRole', WHOLE, { delta: true }),
    read: ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', ...DIR_READ],
    write: ['RoleManagement.ReadWrite.Directory'],
    readOnly: ['id'],
    required: ['roleTemplateId'],
  },
  {
    ...collection('roleManagement/directory/roleDefinitions', 'unifiedRoleDefinition', WHOLE, { delta: false }),
    read: ROLE_MANAGEMENT_READ,
    write: ['RoleManagement.ReadWrite.Directory'],
    readOnly: ['id', 'isBuiltIn', 'templateId'],
    required: ['displayName', 'rolePermissions', 'isEnabled'],
  },
  {
    ...collection('roleManagement/directory/roleAssignments', 'unifiedRoleAssignment', PAGED, { delta: false }),
    read: ROLE_MANAGEMENT_READ,
    write: ['RoleManagement.ReadWrite.Directory'],
    readOnly: ['id'],
    required: ['principalId', 'roleDefinitionId', 'directoryScopeId'],
  },
  {
    ...collection('directory/administrativeUnits', 'administrativeUnit', PAGED, { delta: true }),
    read: ['AdministrativeUnit.Read.All', 'AdministrativeUnit.ReadWrite.All', ...DIR_READ],
    write: ['AdministrativeUnit.ReadWrite.All', ...DIR_WRITE],
    readOnly: ['id', 'deletedDateTime'],
    required: ['displayName'],
  },
  {
    ...collection('devices', 'device', PAGED, { delta: true }),
    read: ['Device.Read.All', 'Device.ReadWrite.All', ...DIR_READ],
    write: ['Device.ReadWrite.All', ...DIR_WRITE],
    readOnly: ['id', 'deletedDateTime', 'registrationDateTime'],
    required: [
      'accountEnabled',
      'alternativeSecurityIds',
      'deviceId',
      'displayName',
      'operatingSystem',
      'operatingSystemVersion',
    ],
  },
  {
    ...collection('domains', 'domain', WHOLE, { delta: false }),
    read: ['Domain.Read.All', 'Domain.ReadWrite.All', ...DIR_READ],
    write: ['Domain.ReadWrite.All'],
    readOnly: ['isRoot', 'isInitial', 'isVerified'],
    required: ['id'],
  },
  {
    ...collection('organization', 'organization', WHOLE, { delta: false }),
    read: ['Organization.Read.All', 'Organization.ReadWrite.All', 'User.Read.All', ...DIR_READ],
    write: ['Organization.ReadWrite.All'],
    readOnly: ['id', 'createdDateTime', 'verifiedDomains', 'tenantType'],
  },
];

export const SET_BY_KIND = new Map(ENTITY_SETS.map((s) => [s.kind, s]));

/** Singleton policy resources: GET and PATCH (204). */
export interface SingletonDef {
  path: string;
  context: string;
  read: string[];
  write: string[];
}

export const SINGLETONS: SingletonDef[] = [
  {
    path: 'policies/authorizationPolicy',
    context: 'policies/authorizationPolicy/$entity',
    read: ['Policy.Read.All', 'Policy.ReadWrite.Authorization'],
    write: ['Policy.ReadWrite.Authorization'],
  },
  {
    path: 'policies/authenticationMethodsPolicy',
    context: 'policies/authenticationMethodsPolicy/$entity',
    read: ['Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.Read.All'],
    write: ['Policy.ReadWrite.AuthenticationMethod'],
  },
  {
    path: 'policies/crossTenantAccessPolicy',
    context: 'policies/crossTenantAccessPolicy/$entity',
    read: ['Policy.Read.All', 'Policy.ReadWrite.CrossTenantAccess'],
    write: ['Policy.ReadWrite.CrossTenantAccess'],
  },
  {
    path: 'policies/crossTenantAccessPolicy/default',
    context: 'policies/crossTenantAccessPolicy/default/$entity',
    read: ['Policy.Read.All', 'Policy.ReadWrite.CrossTenantAccess'],
    write: ['Policy.ReadWrite.CrossTenantAccess'],
  },
];

export const KIND_TYPE: Record<EntityKind, string> = {
  user: '#microsoft.graph.user',
  group: '#microsoft.graph.group',
  application: '#microsoft.graph.application',
  servicePrincipal: '#microsoft.graph.servicePrincipal',
  administrativeUnit: '#microsoft.graph.administrativeUnit',
  directoryRole: '#microsoft.graph.directoryRole',
  oauth2PermissionGrant: '#microsoft.graph.oAuth2PermissionGrant',
  device: '#microsoft.graph.device',
  conditionalAccessPolicy: '#microsoft.graph.conditionalAccessPolicy',
  namedLocation: '#microsoft.graph.namedLocation',
  unifiedRoleDefinition: '#microsoft.graph.unifiedRoleDefinition',
  unifiedRoleAssignment: '#microsoft.graph.unifiedRoleAssignment',
  appRoleAssignment: '#microsoft.graph.appRoleAssignment',
  domain: '#microsoft.graph.domain',
  organization: '#microsoft.graph.organization',
  scopedRoleMembership: '#microsoft.graph.scopedRoleMembership',
  federatedIdentityCredential: '#microsoft.graph.federatedIdentityCredential',
};
