import { randomUUID } from 'node:crypto';
import { AuditTarget, DirectoryAuditRecord, EntityKind, StoredObject } from '../store/types';
import { TenantStore } from '../store/tenant';
import { GraphContext, GraphError, GraphResponse, badRequest, forbidden, json } from './types';

/**
 * The directory audit log (`/auditLogs/directoryAudits`): every change the simulator makes, through Graph or the
 * control API, leaves a record with Graph's shape and Microsoft's activity names, so a backup can find what changed.
 * Shapes: https://learn.microsoft.com/en-us/graph/api/resources/directoryaudit?view=graph-rest-1.0; activity names:
 * https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities; `targetResources`
 * of the relationship activities as public parsers observe them (not a contract Microsoft documents).
 */

/** Who made a change: the app calling Graph, or (control API) an administrator in the portal. */
export type Initiator = { appId: string } | { admin: true };

const TARGET_TYPE: Partial<Record<EntityKind, string>> = {
  user: 'User',
  group: 'Group',
  application: 'Application',
  servicePrincipal: 'ServicePrincipal',
  device: 'Device',
  administrativeUnit: 'Other',
  directoryRole: 'Role',
};

/** Words Microsoft's activity names use per kind ("Update service principal"); kinds without an entry log nothing. */
const ACTIVITY_NOUN: Partial<Record<EntityKind, { noun: string; category: string; service?: string }>> = {
  user: { noun: 'user', category: 'UserManagement' },
  group: { noun: 'group', category: 'GroupManagement' },
  application: { noun: 'application', category: 'ApplicationManagement' },
  servicePrincipal: { noun: 'service principal', category: 'ApplicationManagement' },
  administrativeUnit: { noun: 'administrative unit', category: 'AdministrativeUnit' },
  device: { noun: 'device', category: 'Device' },
  oauth2PermissionGrant: { noun: 'delegated permission grant', category: 'ApplicationManagement' },
  conditionalAccessPolicy: { noun: 'Conditional Access policy', category: 'Policy', service: 'Conditional Access' },
  namedLocation: { noun: 'named location', category: 'Policy', service: 'Conditional Access' },
};

export function target(obj: StoredObject, modified: Record<string, string | null> = {}, added = true): AuditTarget {
  return {
    id: obj.id,
    displayName: (obj.data.displayName as string | undefined) ?? null,
    type: TARGET_TYPE[obj.kind] ?? 'Other',
    ...(obj.kind === 'user' ? { userPrincipalName: (obj.data.userPrincipalName as string | undefined) ?? null } : {}),
    modifiedProperties: Object.entries(modified).map(([displayName, value]) => {
      const encoded = value === null ? null : JSON.stringify(value);
      return { displayName, oldValue: added ? null : encoded, newValue: added ? encoded : null };
    }),
  };
}

export function recordAudit(
  tenant: TenantStore,
  at: string,
  by: Initiator,
  entry: {
    activity: string;
    category: string;
    operationType: DirectoryAuditRecord['operationType'];
    targets: AuditTarget[];
    service?: string;
  },
): void {
  const correlationId = randomUUID();
  tenant.audit.push({
    // Graph's ids look like Directory_{correlationId}_{5 chars}_{n} (13.8).
    id: `Directory_${correlationId}_${randomUUID().slice(0, 5).toUpperCase()}_${tenant.audit.length}`,
    category: entry.category,
    correlationId,
    result: 'success',
    resultReason: '',
    activityDisplayName: entry.activity,
    activityDateTime: at,
    loggedByService: entry.service ?? 'Core Directory',
    operationType: entry.operationType,
    initiatedBy:
      'appId' in by
        ? { user: null, app: { appId: by.appId, displayName: null, servicePrincipalId: null } }
        : {
            user: {
              id: '00000000-0000-0000-0000-00000000ad01',
              displayName: 'Simulated administrator',
              userPrincipalName: `admin@${tenant.defaultDomain}`,
              ipAddress: '203.0.113.7',
            },
            app: null,
          },
    targetResources: entry.targets,
    additionalDetails: [],
  });
}

/** "Add user", "Update service principal", "Delete group"…; kinds Microsoft logs otherwise (or not) are skipped. */
export function recordObjectChange(
  tenant: TenantStore,
  at: string,
  by: Initiator,
  obj: StoredObject,
  op: 'Add' | 'Update' | 'Delete' | 'Restore',
  changed: string[] = [],
): void {
  const names = ACTIVITY_NOUN[obj.kind];
  if (!names) return;
  recordAudit(tenant, at, by, {
    activity: `${op} ${names.noun}`,
    category: names.category,
    operationType: op === 'Restore' ? 'Add' : op,
    service: names.service,
    targets: [
      {
        ...target(obj),
        modifiedProperties:
          changed.length > 0
            ? [
                {
                  displayName: 'Included Updated Properties',
                  oldValue: null,
                  newValue: JSON.stringify(changed.join(', ')),
                },
              ]
            : [],
      },
    ],
  });
}

/** Owners and members added or removed: "Add owner to application", "Remove member from group"… (13.9, 13.12). */
export function recordRelationChange(
  tenant: TenantStore,
  at: string,
  by: Initiator,
  parent: StoredObject,
  rel: 'members' | 'owners',
  related: StoredObject,
  added: boolean,
): void {
  const names = ACTIVITY_NOUN[parent.kind];
  const noun = parent.kind === 'directoryRole' ? 'role' : names?.noun;
  if (!noun) return;
  const what = rel === 'owners' ? 'owner' : 'member';
  const prefix = parent.kind === 'servicePrincipal' ? 'ServicePrincipal' : cap(parent.kind);
  recordAudit(tenant, at, by, {
    activity: added ? `Add ${what} to ${noun}` : `Remove ${what} from ${noun}`,
    category: names?.category ?? 'RoleManagement',
    operationType: added ? 'Add' : 'Delete',
    targets: [
      target(
        related,
        {
          [`${prefix}.ObjectID`]: parent.id,
          [`${prefix}.DisplayName`]: (parent.data.displayName as string | undefined) ?? null,
        },
        added,
      ),
      target(parent),
    ],
  });
}

/**
 * "Add app role assignment to service principal" (an application permission granted to a client), "… to group",
 * "Add app role assignment grant to user" and their removals. `[0]` is the resource service principal; the principal's
 * object id is in `ServicePrincipal.ObjectID` (13.12), or a further target for users and groups.
 */
export function recordAppRoleAssignment(
  tenant: TenantStore,
  at: string,
  by: Initiator,
  assignment: StoredObject,
  added: boolean,
): void {
  const resource = tenant.getAny(String(assignment.data.resourceId));
  const principal = tenant.getAny(String(assignment.data.principalId));
  if (!resource || !principal) return;
  const kind =
    principal.kind === 'servicePrincipal' ? 'service principal' : principal.kind === 'group' ? 'group' : 'user';
  const activity = added
    ? kind === 'user'
      ? 'Add app role assignment grant to user'
      : `Add app role assignment to ${kind}`
    : `Remove app role assignment from ${kind}`;
  const role = (
    (resource.data.appRoles as { id: string; value?: string; displayName?: string }[] | undefined) ?? []
  ).find((r) => r.id === assignment.data.appRoleId);
  const modified: Record<string, string | null> = {
    'AppRole.Id': String(assignment.data.appRoleId),
    'AppRole.Value': role?.value ?? null,
    'AppRoleAssignment.CreatedDateTime': String(assignment.data.createdDateTime ?? at),
  };
  if (principal.kind === 'servicePrincipal') {
    modified['ServicePrincipal.ObjectID'] = principal.id;
    modified['ServicePrincipal.DisplayName'] = (principal.data.displayName as string | undefined) ?? null;
    modified['ServicePrincipal.AppId'] = (principal.data.appId as string | undefined) ?? null;
  }
  recordAudit(tenant, at, by, {
    activity,
    category:
      principal.kind === 'group'
        ? 'GroupManagement'
        : principal.kind === 'user'
          ? 'UserManagement'
          : 'ApplicationManagement',
    operationType: added ? 'Assign' : 'Unassign',
    targets: [target(resource, modified, added), ...(principal.kind === 'servicePrincipal' ? [] : [target(principal)])],
  });
}

/**
 * Federated identity credentials and secrets change the application: "Update application" (the activity name for
 * federated credentials is unverified, 13 "Unverified") and "Update application – Certificates and secrets management "
 * (en dash, trailing space: the real records' spelling, 13.10).
 */
export function recordApplicationUpdate(
  tenant: TenantStore,
  at: string,
  by: Initiator,
  app: StoredObject,
  what: 'FederatedIdentityCredentials' | 'KeyDescription',
): void {
  recordAudit(tenant, at, by, {
    activity:
      what === 'KeyDescription'
        ? 'Update application \u2013 Certificates and secrets management '
        : 'Update application',
    category: 'ApplicationManagement',
    operationType: 'Update',
    targets: [
      {
        ...target(app),
        modifiedProperties: [
          { displayName: 'Included Updated Properties', oldValue: null, newValue: JSON.stringify(what) },
        ],
      },
    ],
  });
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

const AUDIT_READ = ['AuditLog.Read.All'];
const DIRECTORY_READ = ['Directory.Read.All', 'Directory.ReadWrite.All'];
const MAX_TOP = 999;

/**
 * GET /auditLogs/directoryAudits: `$filter` on `activityDateTime` (`ge`/`le`, joined by `and`) and
 * `startswith(activityDisplayName,'…')`/`activityDisplayName eq '…'`, `$top` (1..999: Graph documents no maximum,
 * a choice), paging by `$skiptoken`, newest first. Needs AuditLog.Read.All and Directory.Read.All (13.1). Records
 * older than the tenant's retention are gone (13.3).
 * https://learn.microsoft.com/en-us/graph/api/directoryaudit-list?view=graph-rest-1.0
 */
export function directoryAudits(ctx: GraphContext, rest: string[]): GraphResponse {
  if (ctx.req.method !== 'GET')
    throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed.');
  if (!AUDIT_READ.some((r) => ctx.roles.has(r)) || !DIRECTORY_READ.some((r) => ctx.roles.has(r))) throw forbidden();
  const now = ctx.state.clock.now();
  const oldest = now - ctx.tenant.auditRetentionDays * 86400_000;
  const live = (r: DirectoryAuditRecord) => Date.parse(r.activityDateTime) >= oldest;
  if (rest.length === 1) {
    const r = ctx.tenant.audit.find((x) => x.id === rest[0] && live(x));
    if (!r) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${rest[0]}' does not exist.`);
    return json(200, { '@odata.context': `${ctx.root}/$metadata#auditLogs/directoryAudits/$entity`, ...r });
  }
  if (rest.length > 1) throw badRequest(`Resource not found for the segment '${rest[1]}'.`);
  const test = parseAuditFilter(ctx.req.query.get('$filter'));
  const topText = ctx.req.query.get('$top');
  const top = topText === null ? 100 : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP)
    throw badRequest(
      `Invalid page size specified: '${topText}'. Must be between 1 and ${MAX_TOP} inclusive.`,
      'Request_UnsupportedQuery',
    );
  const skip = Number(ctx.req.query.get('$skiptoken') ?? 0) || 0;
  const matching: DirectoryAuditRecord[] = [];
  // Newest first (the order the list returns in practice; not documented, 13.6).
  for (let i = ctx.tenant.audit.length - 1; i >= 0; i--) {
    const r = ctx.tenant.audit[i];
    if (live(r) && test(r)) matching.push(r);
  }
  const page = matching.slice(skip, skip + top);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.root}/$metadata#auditLogs/directoryAudits`,
    value: page,
  };
  if (skip + top < matching.length) {
    const next = new URLSearchParams(ctx.req.query);
    next.set('$skiptoken', String(skip + top));
    body['@odata.nextLink'] = `${ctx.root}/auditLogs/directoryAudits?${next.toString()}`;
  }
  return json(200, body);
}

/** The clauses of 13.5 this simulator understands, joined by `and`; anything else is 400. */
function parseAuditFilter(filter: string | null): (r: DirectoryAuditRecord) => boolean {
  if (!filter) return () => true;
  const tests: ((r: DirectoryAuditRecord) => boolean)[] = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim().replace(/^\((.*)\)$/, '$1');
    let m = /^activityDateTime\s+(ge|le|eq)\s+(\S+)$/i.exec(c);
    if (m) {
      const at = Date.parse(m[2]);
      if (!Number.isFinite(at)) throw badRequest(`Invalid filter clause: '${c}'.`);
      const op = m[1].toLowerCase();
      tests.push((r) => {
        const t = Date.parse(r.activityDateTime);
        return op === 'ge' ? t >= at : op === 'le' ? t <= at : t === at;
      });
      continue;
    }
    m = /^startswith\(\s*activityDisplayName\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(c);
    if (m) {
      const prefix = m[1].replace(/''/g, "'");
      tests.push((r) => r.activityDisplayName.startsWith(prefix));
      continue;
    }
    m = /^activityDisplayName\s+eq\s+'((?:[^']|'')*)'$/i.exec(c);
    if (m) {
      const name = m[1].replace(/''/g, "'");
      tests.push((r) => r.activityDisplayName === name);
      continue;
    }
    throw badRequest(`Invalid filter clause: '${c}'.`, 'Request_UnsupportedQuery');
  }
  return (r) => tests.every((t) => t(r));
}
