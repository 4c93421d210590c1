import { getObjectType } from '../catalog';
import type { AttributeChange } from './types';

/**
 * Which attributes of a captured object a restore writes back, and how a captured value is compared with a live one.
 * Kept apart from the snapshot diff (diff/) on purpose: a restore compares only what Graph lets it write.
 */

/**
 * Read-only or server-computed properties beyond the catalog's `stripOnCreate`, never sent in a PATCH or POST.
 * https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0 (imAddresses, proxyAddresses:
 * read-only), licences go through assignLicense; application keyCredentials carry private keys Graph never returns.
 */
const NOT_WRITABLE: Record<string, readonly string[]> = {
  users: ['imAddresses', 'showInAddressList', 'userType', 'identities', 'mail', 'otherMails', 'externalUserState'],
  groups: ['assignedLicenses', 'resourceBehaviorOptions', 'resourceProvisioningOptions', 'mail'],
  applications: ['keyCredentials', 'certification', 'verifiedPublisher', 'applicationTemplateId'],
  servicePrincipals: [
    'keyCredentials',
    'appOwnerOrganizationId',
    'appRoles',
    'oauth2PermissionScopes',
    'servicePrincipalNames',
    'verifiedPublisher',
    'info',
    'applicationTemplateId',
    'signInAudience',
    'homepage',
    'replyUrls',
    'publisherName',
    'appDisplayName',
    'appDescription',
  ],
  administrativeUnits: ['membershipRuleProcessingState'],
  conditionalAccessPolicies: [],
  namedLocations: [],
};

/** Secrets a re-created object cannot have back: Graph never returns them, so a restore never invents them. */
export function secretsOf(type: string, captured: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (type === 'applications' || type === 'servicePrincipals') {
    for (const c of (captured.passwordCredentials as { displayName?: string; keyId?: string }[] | undefined) ?? [])
      out.push(`client secret '${c.displayName ?? c.keyId ?? 'unnamed'}'`);
    for (const c of (captured.keyCredentials as { displayName?: string; keyId?: string }[] | undefined) ?? [])
      out.push(`certificate '${c.displayName ?? c.keyId ?? 'unnamed'}'`);
  }
  if (type === 'users') out.push('password (a temporary one is set; the user must change it at next sign-in)');
  return out;
}

function isAnnotation(name: string): boolean {
  return name.includes('@');
}

/** Names of the captured object's properties a restore writes back. */
export function writableAttributes(type: string, captured: Record<string, unknown>): string[] {
  const spec = getObjectType(type);
  const skip = new Set([...spec.restore.stripOnCreate, ...(NOT_WRITABLE[type] ?? []), 'id', 'deletedDateTime']);
  return Object.keys(captured)
    .filter((k) => !skip.has(k) && !isAnnotation(k))
    .sort();
}

/** null, absent and an empty array or object mean "not set" to Graph. */
function normalize(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(normalize);
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([k]) => !isAnnotation(k) || k === '@odata.type')
      .map(([k, x]) => [k, normalize(x)] as const)
      .filter(([, x]) => x !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? null : Object.fromEntries(entries);
  }
  return v;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Attributes whose live value differs from the captured one (live null: the object is gone). */
export function attributeChanges(
  type: string,
  captured: Record<string, unknown>,
  live: Record<string, unknown> | null,
): AttributeChange[] {
  const names = new Set(writableAttributes(type, captured));
  // A property set live but absent from the capture was added after the backup: clear it.
  if (live) for (const k of writableAttributes(type, live)) names.add(k);
  const out: AttributeChange[] = [];
  for (const name of [...names].sort()) {
    const restored = captured[name] ?? null;
    const current = live ? (live[name] ?? null) : null;
    if (!sameValue(current, restored)) out.push({ name, current, restored });
  }
  return out;
}

/** A property that identifies a re-created object among live ones (with `preexisting` ids excluded). */
export function naturalKey(type: string, obj: Record<string, unknown>): string {
  switch (type) {
    case 'users':
      return String(obj.userPrincipalName ?? '').toLowerCase();
    case 'groups':
      return `${String(obj.displayName ?? '')}|${String(obj.mailNickname ?? '')}`;
    case 'servicePrincipals':
      return String(obj.appId ?? '');
    default:
      return String(obj.displayName ?? '');
  }
}

/** Replaces every string equal to (or containing, for URIs such as api://{appId}) an old id with its new one. */
export function remapIds<T>(value: T, mapping: Readonly<Record<string, string>>): T {
  if (Object.keys(mapping).length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (mapping[v]) return mapping[v];
      let s = v;
      for (const [from, to] of Object.entries(mapping)) if (s.includes(from)) s = s.split(from).join(to);
      return s;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Ids a conditional access policy refers to (users, groups, named locations; applications by appId). */
export function conditionalAccessReferences(policy: Record<string, unknown>): string[] {
  const c = (policy.conditions ?? {}) as Record<string, Record<string, unknown> | null>;
  const lists = [
    c.users?.includeUsers,
    c.users?.excludeUsers,
    c.users?.includeGroups,
    c.users?.excludeGroups,
    c.locations?.includeLocations,
    c.locations?.excludeLocations,
    c.applications?.includeApplications,
    c.applications?.excludeApplications,
  ];
  return lists.flatMap((l) => (Array.isArray(l) ? (l as string[]) : []));
}
