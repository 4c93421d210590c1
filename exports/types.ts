import type { StorageLocation } from '../tenants/types';

/** Pure types of export and verify jobs, shared by the API, the workflows and the activities. */

export type ExportLevel = 'tenant' | 'type' | 'object';

export interface ExportRequest {
  exportId: string;
  tenantId: string;
  resellerId: string;
  /** The Microsoft tenant the snapshot is of (written into manifest.json). */
  directory: string;
  storage: StorageLocation;
  snapshotId: string;
  level: ExportLevel;
  /** level type and object. */
  type?: string;
  /** level object. */
  objectId?: string;
  /** When the zip is deleted and its link stops working (at most 7 days after the request). */
  expiresAt: string;
  /** Shorter heartbeat timeouts let tests see a killed worker's export retried quickly. */
  heartbeatTimeoutMs?: number;
}

export interface ExportProgress {
  status: 'building' | 'completed' | 'failed' | 'cancelled';
  objects: number;
  /** Bytes of the zip written so far. */
  bytes: number;
  error?: string;
}

export interface ExportResult {
  bucket: string;
  objectName: string;
  expiresAt: string;
  objects: number;
  files: number;
  bytes: number;
}

export interface VerifyRequest {
  verifyId: string;
  tenantId: string;
  resellerId: string;
  storage: StorageLocation;
  /** Unset: the whole repository (every pack, like `restic check --read-data`). */
  snapshotId?: string;
}

/** One blob that failed verification, and what in the snapshot needs it. */
export interface BadBlob {
  blobId: string;
  packId?: string;
  /** `type/objectId` (and `/relationship` for relationship lists) that read this blob; snapshot checks only. */
  usedBy: string[];
  error: string;
}

export interface VerifyReport {
  scope: 'snapshot' | 'repository';
  snapshotId?: string;
  ok: boolean;
  blobsChecked: number;
  /** Snapshot checks: every bad blob (the first 1,000; `badBlobCount` says how many). */
  badBlobs: BadBlob[];
  badBlobCount: number;
  /** Everything else found wrong (a manifest that cannot be read, repository-wide check findings). */
  errors: string[];
}

/** What the verify workflow's progress query answers while the check runs and after. */
export interface VerifyProgress {
  status: 'running' | 'ok' | 'damaged';
  report?: VerifyReport;
}
