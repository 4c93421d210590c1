import type * as MG from '@microsoft/microsoft-graph-types';
import { TenantStore } from '../store/tenant';
import { Random } from '../util/random';
import { ensureGraphServicePrincipal, addAppRoleAssignment } from '../identity/consent';
import {
  APP_WORDS,
  CITIES,
  COUNTRIES,
  DEPARTMENTS,
  FIRST_NAMES,
  JOB_TITLES,
  LAST_NAMES,
  ROLE_TEMPLATES,
} from './names';
import { Json } from '../store/types';

export interface GenerateTenantOptions {
  seed: number;
  /** Number of users (1 to 100,000+). */
  users: number;
  id?: string;
  displayName?: string;
  /** Initial domain prefix: {prefix}.onmicrosoft.com */
  domainPrefix?: string;
  /** Simulated "now" (ms) for timestamps. */
  now?: number;
}

const put = <T extends object>(t: TenantStore, kind: Parameters<TenantStore['insert']>[0], id: string, data: T) =>
  t.insert(kind, id, data as unknown as Json);

/**
 * Builds a realistic tenant deterministically from a seed. Per-user records are small (only properties that are set);
 * large memberships are id sets, so 100,000 users fit comfortably and generate in a few seconds.
 */
export function generateTenant(opts: GenerateTenantOptions): TenantStore {
  const rnd = new Random(opts.seed);
  const now = opts.now ?? Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const past = (maxDays: number) => iso(now - rnd.int(1, maxDays) * 86400_000 - rnd.int(0, 86400_000));
  const id = opts.id ?? rnd.uuid();
  const prefix = opts.domainPrefix ?? `contoso${opts.seed.toString(36)}`;
  const domain = `${prefix}.onmicrosoft.com`;
  const custom = `${prefix}.example.com`;
  const name = opts.displayName ?? `Contoso ${opts.seed}`;
  const t = new TenantStore(id, name, domain);

  put<MG.Organization>(t, 'organization', id, {
    id,
    displayName: name,
    tenantType: 'AAD',
    countryLetterCode: 'US',
    preferredLanguage: 'en',
    createdDateTime: past(2000),
    verifiedDomains: [
      {
        name: domain,
        isDefault: false,
        isInitial: true,
        type: 'Managed',
        capabilities: 'Email, OfficeCommunicationsOnlineService',
      },
      { name: custom, isDefault: true, isInitial: false, type: 'Managed', capabilities: 'Email' },
    ],
    businessPhones: [],
    technicalNotificationMails: [`admin@${custom}`],
  });
  for (const [d, isDefault, isInitial] of [
    [domain, false, true],
    [custom, true, false],
  ] as const) {
    put<MG.Domain>(t, 'domain', d, {
      id: d,
      authenticationType: 'Managed',
      isAdminManaged: true,
      isDefault,
      isInitial,
      isRoot: true,
      isVerified: true,
      supportedServices: ['Email'],
      passwordValidityPeriodInDays: 2147483647,
      passwordNotificationWindowInDays: 14,
    });
  }
  const graphSp = ensureGraphServicePrincipal(t, past(1500), rnd.uuid());

  // Users
  const userIds: string[] = new Array(opts.users);
  const deptOf = new Uint8Array(opts.users);
  for (let i = 0; i < opts.users; i++) {
    const uid = rnd.uuid();
    const first = rnd.pick(FIRST_NAMES);
    const last = rnd.pick(LAST_NAMES);
    const dept = rnd.int(0, DEPARTMENTS.length);
    const city = rnd.int(0, CITIES.length);
    const guest = rnd.chance(0.03);
    const upn = guest
      ? `${first.toLowerCase()}.${last.toLowerCase()}_partner${i}.example#EXT#@${domain}`
      : `${first.toLowerCase()}.${last.toLowerCase()}${i}@${custom}`;
    const user: MG.User = {
      id: uid,
      accountEnabled: !rnd.chance(0.05),
      displayName: `${first} ${last}`,
      givenName: first,
      surname: last,
      userPrincipalName: upn,
      mail: guest ? `${first.toLowerCase()}@partner${i}.example` : upn,
      mailNickname: `${first.toLowerCase()}.${last.toLowerCase()}${i}`,
      jobTitle: rnd.pick(JOB_TITLES),
      department: DEPARTMENTS[dept],
      officeLocation: `${CITIES[city]} ${rnd.int(1, 40)}/${rnd.int(100, 999)}`,
      city: CITIES[city],
      country: COUNTRIES[city],
      usageLocation: COUNTRIES[city],
      businessPhones: [],
      preferredLanguage: 'en-US',
      userType: guest ? 'Guest' : 'Member',
      createdDateTime: past(1500),
      employeeId: guest ? undefined : String(100000 + i),
    };
    if (user.employeeId === undefined) delete user.employeeId;
    put(t, 'user', uid, user);
    userIds[i] = uid;
    deptOf[i] = dept;
  }

  // Groups: department groups (large), an all-users group, many small ones, some nesting.
  const groupIds: string[] = [];
  const newGroup = (displayName: string, unified: boolean): string => {
    const gid = rnd.uuid();
    const nick = displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    put<MG.Group>(t, 'group', gid, {
      id: gid,
      displayName,
      description: `${displayName} group`,
      mailEnabled: unified,
      mailNickname: nick,
      mail: unified ? `${nick}@${custom}` : null,
      securityEnabled: !unified || rnd.chance(0.5),
      groupTypes: unified ? ['Unified'] : [],
      visibility: unified ? 'Private' : null,
      createdDateTime: past(1200),
      renewedDateTime: past(300),
      securityIdentifier: `S-1-12-1-${rnd.int(1e8, 4e9)}-${rnd.int(1e8, 4e9)}`,
      proxyAddresses: unified ? [`SMTP:${nick}@${custom}`] : [],
    });
    groupIds.push(gid);
    return gid;
  };
  const allUsers = newGroup('All Users', false);
  for (const u of userIds) t.addMember(allUsers, u, false);
  const deptGroups = DEPARTMENTS.map((d) => newGroup(`Dept ${d}`, false));
  for (let i = 0; i < userIds.length; i++) t.addMember(deptGroups[deptOf[i]], userIds[i], false);
  const smallCount = Math.max(5, Math.floor(opts.users / 25));
  for (let g = 0; g < smallCount; g++) {
    const gid = newGroup(
      `${rnd.pick(['Project', 'Team', 'Club', 'Committee'])} ${rnd.pick(APP_WORDS)} ${g}`,
      rnd.chance(0.4),
    );
    const n = Math.min(userIds.length, rnd.int(2, 40));
    for (let k = 0; k < n; k++) t.addMember(gid, userIds[rnd.int(0, userIds.length)], false);
    if (userIds.length) t.ownerSet(gid).add(userIds[rnd.int(0, userIds.length)]);
  }
  // Nesting: each department group inside an "Everyone (nested)" group; a few small groups nest other small ones.
  const nested = newGroup('Everyone (nested)', false);
  for (const d of deptGroups) t.addMember(nested, d, false);
  for (let k = 0; k < Math.min(20, smallCount - 1); k++) {
    t.addMember(groupIds[groupIds.length - 2 - k] ?? nested, groupIds[12 + k] ?? nested, false);
  }

  // Applications and their service principals with owners and app-role assignments.
  const appCount = Math.min(500, Math.max(5, Math.floor(opts.users / 200)));
  const spIds: string[] = [];
  for (let a = 0; a < appCount; a++) {
    const aid = rnd.uuid();
    const appId = rnd.uuid();
    const display = `${rnd.pick(APP_WORDS)} ${rnd.pick(['Pro', 'Online', 'Internal', 'Cloud'])} ${a}`;
    const roleId = rnd.uuid();
    // The app's one role; its service principal publishes it too, marked as the application's.
    const userRole = {
      id: roleId,
      value: 'User',
      displayName: 'User',
      description: 'Users of the app',
      allowedMemberTypes: ['User'],
      isEnabled: true,
    };
    put<MG.Application>(t, 'application', aid, {
      id: aid,
      appId,
      displayName: display,
      signInAudience: 'AzureADMyOrg',
      createdDateTime: past(900),
      publisherDomain: custom,
      identifierUris: [`api://${appId}`],
      web: {
        redirectUris: [`https://${display.toLowerCase().replace(/\s+/g, '-')}.${custom}/signin`],
        implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      },
      appRoles: [userRole],
      passwordCredentials: rnd.chance(0.6)
        ? [
            {
              keyId: rnd.uuid(),
              displayName: 'main',
              hint: 'Abc',
              startDateTime: past(300),
              endDateTime: iso(now + 400 * 86400_000),
              customKeyIdentifier: null,
            },
          ]
        : [],
      keyCredentials: [],
      requiredResourceAccess: [
        {
          resourceAppId: '00000003-0000-0000-c000-000000000000',
          resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
        },
      ],
      tags: [],
    });
    const spId = rnd.uuid();
    const sp = put<MG.ServicePrincipal>(t, 'servicePrincipal', spId, {
      id: spId,
      appId,
      displayName: display,
      appDisplayName: display,
      appOwnerOrganizationId: id,
      servicePrincipalType: 'Application',
      accountEnabled: true,
      appRoleAssignmentRequired: rnd.chance(0.3),
      servicePrincipalNames: [appId, `api://${appId}`],
      appRoles: [{ ...userRole, origin: 'Application' }],
      tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
    });
    spIds.push(spId);
    if (userIds.length) {
      const owner = userIds[rnd.int(0, userIds.length)];
      t.ownerSet(aid).add(owner);
      t.ownerSet(spId).add(owner);
      const assignees = Math.min(userIds.length, rnd.int(1, 6));
      for (let k = 0; k < assignees; k++) {
        const principal = t.get(userIds[rnd.int(0, userIds.length)]);
        if (principal) addAppRoleAssignment(t, principal, sp, roleId, past(200));
      }
      const grp = t.get(groupIds[rnd.int(0, groupIds.length)]);
      if (grp) addAppRoleAssignment(t, grp, sp, roleId, past(200));
    }
    if (rnd.chance(0.5)) {
      const gid = rnd.uuid().replace(/-/g, '').slice(0, 43);
      put<MG.OAuth2PermissionGrant>(t, 'oauth2PermissionGrant', gid, {
        id: gid,
        clientId: spId,
        consentType: 'AllPrincipals',
        principalId: null,
        resourceId: graphSp.id,
        scope: 'User.Read openid profile',
      });
    }
  }

  // Named locations and conditional access policies that reference groups, users and locations.
  const ipLoc = rnd.uuid();
  put(t, 'namedLocation', ipLoc, {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: ipLoc,
    displayName: 'Head office',
    createdDateTime: past(600),
    modifiedDateTime: past(100),
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
  });
  const countryLoc = rnd.uuid();
  put(t, 'namedLocation', countryLoc, {
    '@odata.type': '#microsoft.graph.countryNamedLocation',
    id: countryLoc,
    displayName: 'Blocked countries',
    createdDateTime: past(600),
    modifiedDateTime: past(100),
    countriesAndRegions: ['KP', 'IR'],
    includeUnknownCountriesAndRegions: true,
    countryLookupMethod: 'clientIpAddress',
  });
  const caDefs: [string, string, Json][] = [
    ['Require MFA for admins', 'enabled', { builtInControls: ['mfa'], operator: 'OR' }],
    ['Block legacy authentication', 'enabled', { builtInControls: ['block'], operator: 'OR' }],
    ['Block blocked countries', 'enabledForReportingButNotEnforced', { builtInControls: ['block'], operator: 'OR' }],
    ['Require compliant device for Finance', 'enabled', { builtInControls: ['compliantDevice'], operator: 'OR' }],
    ['MFA outside head office', 'disabled', { builtInControls: ['mfa'], operator: 'OR' }],
  ];
  caDefs.forEach(([displayName, state, grantControls], i) => {
    const pid = rnd.uuid();
    put(t, 'conditionalAccessPolicy', pid, {
      id: pid,
      displayName,
      state,
      createdDateTime: past(400),
      modifiedDateTime: past(50),
      templateId: null,
      conditions: {
        clientAppTypes: i === 1 ? ['exchangeActiveSync', 'other'] : ['all'],
        applications: {
          includeApplications: ['All'],
          excludeApplications: spIds.length ? [t.get(spIds[0])?.data.appId] : [],
          includeUserActions: [],
        },
        users: {
          includeUsers: i === 0 ? [] : ['All'],
          excludeUsers: userIds.length ? [userIds[i % userIds.length]] : [],
          includeGroups: i === 0 || i === 3 ? [deptGroups[3]] : [],
          excludeGroups: [groupIds[groupIds.length - 1]],
          includeRoles: i === 0 ? [ROLE_TEMPLATES[0][0]] : [],
          excludeRoles: [],
        },
        locations:
          i === 2
            ? { includeLocations: [countryLoc], excludeLocations: [] }
            : i === 4
              ? { includeLocations: ['All'], excludeLocations: [ipLoc] }
              : null,
        platforms: null,
        signInRiskLevels: [],
        userRiskLevels: [],
      },
      grantControls,
      sessionControls: null,
    });
  });

  // Directory roles (activated), role definitions and assignments.
  for (const [templateId, displayName] of ROLE_TEMPLATES) {
    put<MG.UnifiedRoleDefinition>(t, 'unifiedRoleDefinition', templateId, {
      id: templateId,
      templateId,
      displayName,
      description: `Built-in role ${displayName}`,
      isBuiltIn: true,
      isEnabled: true,
      rolePermissions: [
        {
          allowedResourceActions: [
            `microsoft.directory/${displayName.split(' ')[0].toLowerCase()}/allProperties/allTasks`,
          ],
          condition: null,
        },
      ],
      version: '1',
    });
    const rid = rnd.uuid();
    put<MG.DirectoryRole>(t, 'directoryRole', rid, {
      id: rid,
      displayName,
      description: `Built-in role ${displayName}`,
      roleTemplateId: templateId,
    });
    const holders = Math.min(userIds.length, rnd.int(1, 4));
    for (let k = 0; k < holders; k++) {
      const uid = userIds[rnd.int(0, userIds.length)];
      if (!t.addMember(rid, uid, false)) continue;
      const aid = Buffer.from(rnd.uuid().replace(/-/g, ''), 'hex').toString('base64url');
      put<MG.UnifiedRoleAssignment>(t, 'unifiedRoleAssignment', aid, {
        id: aid,
        principalId: uid,
        roleDefinitionId: templateId,
        directoryScopeId: '/',
      });
    }
  }

  // Administrative units by region.
  for (let r = 0; r < Math.min(5, CITIES.length); r++) {
    const auId = rnd.uuid();
    put<MG.AdministrativeUnit>(t, 'administrativeUnit', auId, {
      id: auId,
      displayName: `${CITIES[r]} AU`,
      description: `Users in ${CITIES[r]}`,
      visibility: null,
    });
    for (let k = 0; k < Math.min(userIds.length, 20); k++)
      t.addMember(auId, userIds[rnd.int(0, userIds.length)], false);
  }

  // Devices for a quarter of the users.
  const deviceCount = Math.floor(opts.users / 4);
  for (let d = 0; d < deviceCount; d++) {
    const did = rnd.uuid();
    const os = rnd.pick(['Windows', 'iOS', 'Android', 'MacMDM']);
    put<MG.Device>(t, 'device', did, {
      id: did,
      deviceId: rnd.uuid(),
      displayName: `${os.toUpperCase()}-${d.toString(36).toUpperCase()}`,
      accountEnabled: true,
      operatingSystem: os,
      operatingSystemVersion: `${rnd.int(10, 17)}.${rnd.int(0, 9)}`,
      trustType: rnd.pick(['AzureAd', 'Workplace', 'ServerAd']),
      isCompliant: rnd.chance(0.8),
      isManaged: rnd.chance(0.8),
      registrationDateTime: past(700),
      approximateLastSignInDateTime: past(30),
    });
  }

  // Singleton policies.
  t.singletons.set('policies/authorizationPolicy', {
    id: 'authorizationPolicy',
    displayName: 'Authorization Policy',
    description: 'Used to manage authorization related settings across the company.',
    allowInvitesFrom: 'everyone',
    allowedToSignUpEmailBasedSubscriptions: true,
    allowedToUseSSPR: true,
    allowEmailVerifiedUsersToJoinOrganization: false,
    blockMsolPowerShell: false,
    guestUserRoleId: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
    defaultUserRolePermissions: {
      allowedToCreateApps: true,
      allowedToCreateSecurityGroups: true,
      allowedToCreateTenants: true,
      allowedToReadBitlockerKeysForOwnedDevice: true,
      allowedToReadOtherUsers: true,
      permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'],
    },
  });
  const methods = [
    'Fido2',
    'MicrosoftAuthenticator',
    'Sms',
    'TemporaryAccessPass',
    'Email',
    'SoftwareOath',
    'X509Certificate',
  ];
  t.singletons.set('policies/authenticationMethodsPolicy', {
    id: 'authenticationMethodsPolicy',
    displayName: 'Authentication Methods Policy',
    description: 'The tenant-wide policy that controls which authentication methods are allowed in the tenant.',
    lastModifiedDateTime: past(60),
    policyVersion: '1.5',
    policyMigrationState: 'migrationComplete',
    registrationEnforcement: {
      authenticationMethodsRegistrationCampaign: {
        snoozeDurationInDays: 1,
        state: 'default',
        excludeTargets: [],
        includeTargets: [
          { id: 'all_users', targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' },
        ],
      },
    },
    authenticationMethodConfigurations: methods.map((m) => ({
      '@odata.type': `#microsoft.graph.${m.charAt(0).toLowerCase()}${m.slice(1)}AuthenticationMethodConfiguration`,
      id: m,
      state: rnd.chance(0.6) ? 'enabled' : 'disabled',
      excludeTargets: [],
    })),
  });
  t.singletons.set('policies/crossTenantAccessPolicy', {
    id: 'crossTenantAccessPolicy',
    displayName: 'CrossTenantAccessPolicy',
    allowedCloudEndpoints: [],
  });
  const b2b = {
    usersAndGroups: { accessType: 'allowed', targets: [{ target: 'AllUsers', targetType: 'user' }] },
    applications: { accessType: 'allowed', targets: [{ target: 'AllApplications', targetType: 'application' }] },
  };
  t.singletons.set('policies/crossTenantAccessPolicy/default', {
    id: 'crossTenantAccessPolicy/default',
    isServiceDefault: true,
    inboundTrust: {
      isMfaAccepted: false,
      isCompliantDeviceAccepted: false,
      isHybridAzureADJoinedDeviceAccepted: false,
    },
    b2bCollaborationOutbound: b2b,
    b2bCollaborationInbound: b2b,
    b2bDirectConnectOutbound: b2b,
    b2bDirectConnectInbound: b2b,
  });
  t.singletons.set('policies/crossTenantAccessPolicy/partners', {
    value: [
      {
        tenantId: rnd.uuid(),
        isServiceProvider: false,
        inboundTrust: {
          isMfaAccepted: true,
          isCompliantDeviceAccepted: false,
          isHybridAzureADJoinedDeviceAccepted: false,
        },
      },
    ],
  });
  // Scoped role members of the administrative units: drawn from their own generator so that adding them left every
  // object generated above unchanged for a given seed.
  const scoped = new Random(opts.seed * 31 + 7);
  const roles = t.list('directoryRole');
  if (roles.length && userIds.length) {
    for (const au of t.list('administrativeUnit')) {
      const uid = userIds[scoped.int(0, userIds.length)];
      const user = t.get(uid);
      const mid = scoped.uuid();
      put<MG.ScopedRoleMembership>(t, 'scopedRoleMembership', mid, {
        id: mid,
        roleId: roles[scoped.int(0, roles.length)].id,
        administrativeUnitId: au.id,
        roleMemberInfo: {
          id: uid,
          displayName: (user?.data.displayName as string | undefined) ?? null,
          userPrincipalName: (user?.data.userPrincipalName as string | undefined) ?? null,
        } as MG.Identity,
      });
    }
  }

  return t;
}
