/**
 * Where things live in a bucket. Every prefix is derived here from ids the service controls (never typed by a
 * reseller), and the three families never overlap, so no tenant's repository can reach the audit trail, an export
 * or another tenant's repository (docs/storage-layout.md, "Prefixes"):
 *
 * - `resellers/{resellerId}/tenants/{tenantId}/` — one tenant's backup repository, in its storage location's bucket;
 * - `exports/{resellerId}/{tenantId}/` — that tenant's export packages, in the same bucket;
 * - `audit/{resellerId}/` — the audit trail, in the default bucket.
 */

export const TENANT_REPOSITORIES_PREFIX = 'resellers/';
export const EXPORTS_PREFIX = 'exports/';
export const AUDIT_PREFIX = 'audit/';

/** Prefixes only the service writes under; a repository of a legacy tenant (typed prefix) may not overlap them. */
export const RESERVED_PREFIXES = [TENANT_REPOSITORIES_PREFIX, EXPORTS_PREFIX, AUDIT_PREFIX] as const;

/** One path segment made of an id: no slash, no dot-segment, nothing a bucket listing could confuse. */
const ID_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function segment(kind: string, id: string): string {
  if (!ID_SEGMENT.test(id)) throw new Error(`${kind} '${id}' cannot name a storage prefix`);
  return id;
}

/** The prefix of a tenant's backup repository. */
export function tenantRepositoryPrefix(ids: { resellerId: string; tenantId: string }): string {
  return `${TENANT_REPOSITORIES_PREFIX}${segment('reseller id', ids.resellerId)}/tenants/${segment('tenant id', ids.tenantId)}/`;
}

/** The prefix under which a tenant's exports (zip packages, manifests, checksums) are written, in its bucket. */
export function exportPrefix(ids: { resellerId: string; tenantId: string }): string {
  return `${EXPORTS_PREFIX}${segment('reseller id', ids.resellerId)}/${segment('tenant id', ids.tenantId)}/`;
}

/** The prefix of one reseller's audit entries in the default bucket. */
export function auditPrefix(resellerId: string): string {
  return `${AUDIT_PREFIX}${resellerId}/`;
}

/** `prefix` as a folder: '' for the bucket's root, else ending in one slash. */
export function folderOf(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * The reserved prefix a typed (legacy) repository prefix would overlap, if any: one inside the other, or the bucket's
 * root (a repository there would list and prune next to the reserved folders).
 */
export function reservedOverlap(prefix: string): string | undefined {
  const folder = folderOf(prefix);
  if (folder === '' || folder === '/') return '(the bucket root)';
  return RESERVED_PREFIXES.find((reserved) => folder.startsWith(reserved) || reserved.startsWith(folder));
}
