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

export const ENTITY_SETS: EntitySet[] = [
  {
    path: 'users',
    kind: 'user',
    contextName: 'users',
    read: ['User.Read.All', 'User.ReadBasic.All', 'User.ReadWrite.All', ...DIR_READ],
    write: ['User.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    defaultSelect: USER_DEFAULT_SELECT,
    delta: true,
    paged: true,
    readOnly: ['id', 'createdDateTime', 'deletedDateTime', 'onPremisesSyncEnabled', 'securityIdentifier'],
    required: ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'],
  },
  {
    path: 'groups',
    kind: 'group',
    contextName: 'groups',
    read: ['Group.Read.All', 'Group.ReadWrite.All', ...DIR_READ],
    write: ['Group.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
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
    path: 'applications',
    kind: 'application',
    contextName: 'applications',
    read: ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...DIR_READ],
    write: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
    readOnly: ['id', 'appId', 'createdDateTime', 'deletedDateTime', 'publisherDomain'],
    required: ['displayName'],
  },
  {
    path: 'servicePrincipals',
    kind: 'servicePrincipal',
    contextName: 'servicePrincipals',
    read: ['Application.Read.All', 'Application.ReadWrite.All', ...DIR_READ],
    write: ['Application.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
    readOnly: ['id', 'appOwnerOrganizationId', 'deletedDateTime', 'appDisplayName'],
    required: ['appId'],
  },
  {
    path: 'oauth2PermissionGrants',
    kind: 'oauth2PermissionGrant',
    contextName: 'oauth2PermissionGrants',
    read: ['DelegatedPermissionGrant.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', ...DIR_READ],
    write: ['DelegatedPermissionGrant.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
    readOnly: ['id'],
    required: ['clientId', 'consentType', 'resourceId', 'scope'],
  },
  {
    path: 'identity/conditionalAccess/policies',
    kind: 'conditionalAccessPolicy',
    contextName: 'identity/conditionalAccess/policies',
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
    write: ['Policy.ReadWrite.ConditionalAccess'],
    defaultTop: 100,
    maxTop: 999,
    delta: false,
    paged: true,
    readOnly: ['id', 'createdDateTime', 'modifiedDateTime', 'templateId'],
    required: ['displayName', 'state', 'conditions'],
  },
  {
    path: 'identity/conditionalAccess/namedLocations',
    kind: 'namedLocation',
    contextName: 'identity/conditionalAccess/namedLocations',
    read: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
    write: ['Policy.ReadWrite.ConditionalAccess'],
    defaultTop: 100,
    maxTop: 999,
    delta: false,
    paged: true,
    readOnly: ['id', 'createdDateTime', 'modifiedDateTime'],
    required: ['@odata.type', 'displayName'],
  },
  {
    path: 'directoryRoles',
    kind: 'directoryRole',
    contextName: 'directoryRoles',
    read: ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', ...DIR_READ],
    write: ['RoleManagement.ReadWrite.Directory'],
    defaultTop: 1000,
    maxTop: 1000,
    delta: true,
    paged: false,
    readOnly: ['id'],
    required: ['roleTemplateId'],
  },
  {
    path: 'roleManagement/directory/roleDefinitions',
    kind: 'unifiedRoleDefinition',
    contextName: 'roleManagement/directory/roleDefinitions',
    read: [
      'RoleManagement.Read.Directory',
      'RoleManagement.Read.All',
      'RoleManagement.ReadWrite.Directory',
      ...DIR_READ,
    ],
    write: ['RoleManagement.ReadWrite.Directory'],
    defaultTop: 1000,
    maxTop: 1000,
    delta: false,
    paged: false,
    readOnly: ['id', 'isBuiltIn', 'templateId'],
    required: ['displayName', 'rolePermissions', 'isEnabled'],
  },
  {
    path: 'roleManagement/directory/roleAssignments',
    kind: 'unifiedRoleAssignment',
    contextName: 'roleManagement/directory/roleAssignments',
    read: [
      'RoleManagement.Read.Directory',
      'RoleManagement.Read.All',
      'RoleManagement.ReadWrite.Directory',
      ...DIR_READ,
    ],
    write: ['RoleManagement.ReadWrite.Directory'],
    defaultTop: 100,
    maxTop: 999,
    delta: false,
    paged: true,
    readOnly: ['id'],
    required: ['principalId', 'roleDefinitionId', 'directoryScopeId'],
  },
  {
    path: 'directory/administrativeUnits',
    kind: 'administrativeUnit',
    contextName: 'directory/administrativeUnits',
    read: ['AdministrativeUnit.Read.All', 'AdministrativeUnit.ReadWrite.All', ...DIR_READ],
    write: ['AdministrativeUnit.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
    readOnly: ['id', 'deletedDateTime'],
    required: ['displayName'],
  },
  {
    path: 'devices',
    kind: 'device',
    contextName: 'devices',
    read: ['Device.Read.All', 'Device.ReadWrite.All', ...DIR_READ],
    write: ['Device.ReadWrite.All', ...DIR_WRITE],
    defaultTop: 100,
    maxTop: 999,
    delta: true,
    paged: true,
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
    path: 'domains',
    kind: 'domain',
    contextName: 'domains',
    read: ['Domain.Read.All', 'Domain.ReadWrite.All', ...DIR_READ],
    write: ['Domain.ReadWrite.All'],
    defaultTop: 1000,
    maxTop: 1000,
    delta: false,
    paged: false,
    readOnly: ['isRoot', 'isInitial', 'isVerified'],
    required: ['id'],
  },
  {
    path: 'organization',
    kind: 'organization',
    contextName: 'organization',
    read: ['Organization.Read.All', 'Organization.ReadWrite.All', 'User.Read.All', ...DIR_READ],
    write: ['Organization.ReadWrite.All'],
    defaultTop: 1000,
    maxTop: 1000,
    delta: false,
    paged: false,
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
