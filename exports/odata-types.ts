/**
 * The OData type of each catalog type's objects. A Graph list does not repeat `@odata.type` on every item (only a
 * polymorphic collection does, e.g. named locations), so the export adds it: an object file then says on its own
 * what it is, as a single GET of it would (https://learn.microsoft.com/en-us/graph/api/resources/user).
 */
const ODATA_TYPES: Record<string, string> = {
  organization: 'organization',
  domains: 'domain',
  users: 'user',
  groups: 'group',
  administrativeUnits: 'administrativeUnit',
  devices: 'device',
  applications: 'application',
  servicePrincipals: 'servicePrincipal',
  oauth2PermissionGrants: 'oAuth2PermissionGrant',
  directoryRoles: 'directoryRole',
  roleDefinitions: 'unifiedRoleDefinition',
  namedLocations: 'namedLocation',
  conditionalAccessPolicies: 'conditionalAccessPolicy',
  roleAssignments: 'unifiedRoleAssignment',
  authenticationMethodsPolicy: 'authenticationMethodsPolicy',
  authorizationPolicy: 'authorizationPolicy',
  crossTenantAccessPolicy: 'crossTenantAccessPolicy',
  crossTenantAccessPolicyDefault: 'crossTenantAccessPolicyConfigurationDefault',
  crossTenantAccessPolicyPartners: 'crossTenantAccessPolicyConfigurationPartner',
};

export function odataTypeOf(typeKey: string): string | undefined {
  const name = ODATA_TYPES[typeKey];
  return name ? `#microsoft.graph.${name}` : undefined;
}

/** The object as Graph shows it: its own `@odata.type` when it has one (polymorphic lists), else the type's. */
export function inGraphShape(typeKey: string, object: Record<string, unknown>): Record<string, unknown> {
  if (typeof object['@odata.type'] === 'string') return object;
  const odataType = odataTypeOf(typeKey);
  return odataType ? { '@odata.type': odataType, ...object } : object;
}
