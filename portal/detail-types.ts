/**
 * What the Show detail screens read from the browse, diff, export and restore APIs (api/openapi/paths). Where the API
 * answers with the product's own types (a snapshot's summary and an object's history from storage, the diff's types
 * from diff/), they are imported as types only: esbuild drops them, so no product code reaches the browser bundle.
 */
import type { HistoryItem, RelationshipRef, SnapshotSummary } from '../storage/snapshot-reader';
import type { AttributeChange, ObjectRef, RelatedRef, TypeDiff } from '../diff';

export type { AttributeChange, HistoryItem, ObjectRef, RelatedRef, SnapshotSummary, TypeDiff };

export interface SnapshotPage {
  total: number;
  chain: { ok: boolean; problems?: string[] };
  snapshots: SnapshotSummary[];
}

export interface TypeCount {
  type: string;
  label?: string;
  status: 'captured' | 'skipped';
  count: number;
  softDeleted?: number;
  reason?: string;
  detail?: string;
}

export interface ObjectRow {
  id: string;
  displayName: string | null;
  state: 'present' | 'in-recycle-bin';
  properties?: Record<string, unknown>;
}

export interface ObjectPage {
  total: number;
  offset: number;
  limit: number;
  objects: ObjectRow[];
}

export interface ObjectDetail {
  snapshotId: string;
  type: string;
  id: string;
  displayName: string | null;
  state: 'present' | 'in-recycle-bin';
  object: Record<string, unknown>;
  relationships: Record<string, { count: number; truncated?: boolean; items: RelationshipRef[] }>;
  history: HistoryItem[];
}

export interface SnapshotDiff {
  from: { id: string; startedAt: string };
  to: { id: string; startedAt: string };
  types: TypeDiff[];
}

export interface ExportJob {
  jobId: string;
  status: 'building' | 'completed' | 'failed' | 'expired' | string;
  url?: string;
  expiresAt?: string;
  error?: string;
  objects?: number;
  bytes?: number;
  progress?: { objects?: number; bytes?: number };
}

export interface PlannedObject {
  type: string;
  id: string;
  displayName: string | null;
  action: 'unchanged' | 'update' | 'restore-from-recycle-bin' | 'recreate' | 'impossible';
  reason?: string;
  attributes: { name: string; current: unknown; restored: unknown }[];
  relationships: { name: string; add: string[]; remove: string[]; missing: string[] }[];
  secretsToReissue?: string[];
}

export interface RestoreState {
  restoreId: string;
  status: string;
  detail?: string;
  consent: { mode?: string; state?: string; consentUrl?: string };
  plan?: { hash: string; expiresAt?: string };
  planDetail?: {
    objects: PlannedObject[];
    remaps: { type: string; id: string; displayName: string | null }[];
    roleAssignments?: {
      action: 'create' | 'remove';
      principalId: string;
      roleDefinitionId: string;
      directoryScopeId: string;
    }[];
    scopedRoleMembers?: {
      action: 'create' | 'remove';
      administrativeUnitId: string;
      roleId: string;
      memberId: string;
    }[];
  };
  reportDetail?: {
    objects: {
      type: string;
      id: string;
      liveId?: string;
      displayName: string | null;
      outcome: string;
      differences?: { name: string; why: string }[];
      error?: string;
    }[];
    idMapping: Record<string, string>;
    secretsToReissue: { type: string; id: string; displayName: string | null; secrets: string[] }[];
    temporaryPasswordUsers: string[];
    fidelity: { restorable: number; restored: number };
  };
}
