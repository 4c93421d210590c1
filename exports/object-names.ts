/**
 * Where export zips live in a tenant's bucket. Pure (workflows import it). Every export object is under
 * EXPORTS_PREFIX, apart from every tenant repository, so the bucket's lifecycle rule and the cleanup workflow can
 * delete exports without ever matching a backup file. Issue 18 reserves this prefix; align it here, in one place.
 */
export const EXPORTS_PREFIX = 'exports/';

export interface ExportIds {
  resellerId: string;
  tenantId: string;
  exportId: string;
}

/** Everything one export writes starts with this (the cleanup deletes this prefix). */
export function exportObjectPrefix(ids: ExportIds): string {
  return `${EXPORTS_PREFIX}${ids.resellerId}/${ids.tenantId}/${ids.exportId}/`;
}

/** The zip the signed URL points at. */
export function exportObjectName(ids: ExportIds): string {
  return `${exportObjectPrefix(ids)}entra-backup-export.zip`;
}

/** The export workflow's id: the tenant's id in it lets the API find a job from the tenant's route alone. */
export function exportWorkflowId(tenantId: string, exportId: string): string {
  return `export:${tenantId}:${exportId}`;
}

export function exportCleanupWorkflowId(tenantId: string, exportId: string): string {
  return `export-cleanup:${tenantId}:${exportId}`;
}

export function verifyWorkflowId(tenantId: string, verifyId: string): string {
  return `verify:${tenantId}:${verifyId}`;
}

/** V4 signed URLs are valid for at most 7 days (https://cloud.google.com/storage/docs/access-control/signed-urls). */
export const MAX_EXPORT_EXPIRY_SECONDS = 7 * 24 * 3600;
