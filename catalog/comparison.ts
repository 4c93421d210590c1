import type { ObjectTypeKey } from './object-types';

/*
 * How browse and diff read the catalog's types: which arrays are sets (a reordering is not a change), and which
 * properties an object search matches besides the display name and the id. Kept beside the type table rather than in
 * it so this concern reads as one table; keys are checked against the catalog at compile time.
 */

/**
 * Array properties whose order carries no meaning, by dotted path from the object's root (`[]` steps into the items
 * of an array of objects). Graph returns them in whatever order it stores them; a second read may reorder them.
 */
export const UNORDERED_ARRAYS: Partial<Record<ObjectTypeKey, readonly string[]>> = {
  organization: [
    'assignedPlans',
    'businessPhones',
    'marketingNotificationEmails',
    'provisionedPlans',
    'securityComplianceNotificationMails',
    'securityComplianceNotificationPhones',
    'technicalNotificationMails',
    'verifiedDomains',
  ],
  domains: ['supportedServices'],
  users: [
    'assignedLicenses',
    'assignedLicenses[].disabledPlans',
    'businessPhones',
    'identities',
    'imAddresses',
    'otherMails',
    'proxyAddresses',
  ],
  groups: [
    'assignedLicenses',
    'groupTypes',
    'proxyAddresses',
    'resourceBehaviorOptions',
    'resourceProvisioningOptions',
  ],
  devices: ['alternativeSecurityIds', 'physicalIds'],
  applications: ['identifierUris', 'tags', 'web.redirectUris', 'spa.redirectUris', 'publicClient.redirectUris'],
  servicePrincipals: ['alternativeNames', 'notificationEmailAddresses', 'replyUrls', 'servicePrincipalNames', 'tags'],
  conditionalAccessPolicies: [
    'conditions.applications.includeApplications',
    'conditions.applications.excludeApplications',
    'conditions.applications.includeUserActions',
    'conditions.users.includeUsers',
    'conditions.users.excludeUsers',
    'conditions.users.includeGroups',
    'conditions.users.excludeGroups',
    'conditions.users.includeRoles',
    'conditions.users.excludeRoles',
    'conditions.locations.includeLocations',
    'conditions.locations.excludeLocations',
    'conditions.platforms.includePlatforms',
    'conditions.platforms.excludePlatforms',
    'conditions.clientAppTypes',
    'conditions.signInRiskLevels',
    'conditions.userRiskLevels',
    'grantControls.builtInControls',
  ],
  namedLocations: ['countriesAndRegions'],
};

/** Properties an object search matches by prefix (case-insensitive), besides its display name and its id. */
export const SEARCH_PROPERTIES: Partial<Record<ObjectTypeKey, readonly string[]>> = {
  users: ['userPrincipalName', 'mail'],
  groups: ['mail', 'mailNickname'],
  applications: ['appId'],
  servicePrincipals: ['appId'],
  domains: ['id'],
};

/**
 * Properties a diff does not report as attribute changes because the object's state says it already: an object read
 * from the recycle bin carries `deletedDateTime` (https://learn.microsoft.com/en-us/graph/api/resources/directory),
 * so moving to and back from the bin shows as `removed (soft)` / `restored`, not as this property set and unset.
 */
export const STATE_PROPERTIES: readonly string[] = ['deletedDateTime'];

export function ignoredInDiff(_type: string): readonly string[] {
  return STATE_PROPERTIES;
}

export function unorderedArrays(type: string): readonly string[] {
  return UNORDERED_ARRAYS[type as ObjectTypeKey] ?? [];
}

export function searchProperties(type: string): readonly string[] {
  return SEARCH_PROPERTIES[type as ObjectTypeKey] ?? [];
}
