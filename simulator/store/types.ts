/** Entity kinds the simulator stores; each maps to one Graph v1.0 entity type (microsoft.graph.{kind}). */
export type EntityKind =
  | 'user'
  | 'group'
  | 'application'
  | 'servicePrincipal'
  | 'administrativeUnit'
  | 'directoryRole'
  | 'oauth2PermissionGrant'
  | 'device'
  | 'conditionalAccessPolicy'
  | 'namedLocation'
  | 'unifiedRoleDefinition'
  | 'unifiedRoleAssignment'
  | 'appRoleAssignment'
  | 'domain'
  | 'organization'
  | 'scopedRoleMembership'
  | 'federatedIdentityCredential';

/**
 * Kinds that go to the recycle bin on DELETE
 * (https://learn.microsoft.com/en-us/graph/api/group-delete?view=graph-rest-1.0, current pages: security groups too).
 */
export const SOFT_DELETABLE: ReadonlySet<EntityKind> = new Set([
  'user',
  'group',
  'application',
  'servicePrincipal',
  'administrativeUnit',
]);

export type Json = Record<string, unknown>;

/**
 * One directory object. `data` holds only the properties that are set (compact: a 100,000-user tenant keeps one
 * small object per user; unset properties are rendered as null by the serializer when Graph would show them).
 */
export interface StoredObject {
  id: string;
  kind: EntityKind;
  data: Json;
  /** Change sequence of the last create/update/restore/relationship change; delta compares against it. */
  seq: number;
  /** Sequence of the create or the last restore: the whole object counts as changed (delta, $select or not). */
  baseSeq?: number;
  /**
   * Sequence of the last change per property (and per relationship: `owners`), set only for properties changed after
   * creation; lets a `$select`-scoped delta ignore changes to unselected properties
   * (https://learn.microsoft.com/en-us/graph/api/group-delta?view=graph-rest-1.0).
   */
  propSeq?: Record<string, number>;
  deletedDateTime?: string;
}

export interface Tombstone {
  id: string;
  kind: EntityKind;
  seq: number;
  reason: 'changed' | 'deleted';
}

export interface MemberChange {
  seq: number;
  id: string;
  removed: boolean;
  /** Kind of the member when the change was logged (it may be gone by the time delta reports it). */
  kind?: EntityKind;
}

export type TenantSize = 'S' | 'M' | 'L';
export type ConsentMode = 'accept' | 'decline' | 'page';

/** Directory audit records (graph/audit-log.ts), Graph's directoryAudit shape. */
export interface AuditModifiedProperty {
  displayName: string;
  /** JSON-encoded, as Graph returns them (`"\"…\""`). */
  oldValue: string | null;
  newValue: string | null;
}

export interface AuditTarget {
  id: string;
  displayName: string | null;
  type: string;
  userPrincipalName?: string | null;
  modifiedProperties: AuditModifiedProperty[];
}

export interface DirectoryAuditRecord {
  id: string;
  category: string;
  correlationId: string;
  result: 'success';
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign';
  initiatedBy: {
    user: { id: string; displayName: string | null; userPrincipalName: string; ipAddress: string } | null;
    app: { appId: string; displayName: string | null; servicePrincipalId: string | null } | null;
  };
  targetResources: AuditTarget[];
  additionalDetails: { key: string; value: string }[];
}
