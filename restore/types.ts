/**
 * Shapes of a restore: request, plan, progress and report. Pure types and constants: the restore workflow imports
 * them, so nothing here may touch Node built-ins.
 */

/** One object a restore request names: a catalog type and the object's id in the snapshot. */
export interface RestoreTarget {
  type: string;
  id: string;
}

/** What happens to one object. */
export type PlannedAction =
  /** The live object equals the snapshot (restorable attributes and relationships). */
  | 'unchanged'
  /** The object exists: PATCH attributes, add/remove relationships. */
  | 'update'
  /** In the recycle bin: POST /directory/deletedItems/{id}/restore, then reset attributes and relationships. */
  | 'restore-from-recycle-bin'
  /** Gone for good (or the type has no recycle bin): POST it again; it gets a new id, references are remapped. */
  | 'recreate'
  /** Cannot be done through Graph; `reason` says why. */
  | 'impossible';

export interface AttributeChange {
  name: string;
  /** Live value (null when absent or the object is gone). */
  current: unknown;
  /** Value in the snapshot, written back. */
  restored: unknown;
}

export interface RelationshipChange {
  name: string;
  /** Ids (snapshot ids; remapped at apply time when their object is re-created by this restore). */
  add: string[];
  remove: string[];
  /** Snapshot targets that no longer exist and are not part of this restore: cannot be re-added. */
  missing: string[];
}

export interface PlannedObject {
  type: string;
  id: string;
  displayName: string | null;
  action: PlannedAction;
  reason?: string;
  attributes: AttributeChange[];
  relationships: RelationshipChange[];
  /** Re-create only: live ids of objects with the same natural key at planning time (never taken for ours). */
  preexisting?: string[];
  /** Re-create only: captured values a POST needs that are not restorable attributes (`@odata.type`, old appId). */
  keys?: Record<string, string>;
  /**
   * Applications: the captured federated identity credentials named in the `federatedIdentityCredentials`
   * relationship's `add` (created, or updated where one of that name differs), written with their bodies.
   */
  federatedIdentityCredentials?: FederatedCredential[];
  /** Secrets Graph never returns that an admin must issue again (e.g. client secrets of a re-created app). */
  secretsToReissue?: string[];
}

/** A federated identity credential of an application; `name` is unique per application. */
export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string | null;
}

/** Live objects that reference an object this restore re-creates: their reference is rewritten to the new id. */
export interface ReferenceRemap {
  type: string;
  id: string;
  displayName: string | null;
  /** Snapshot ids referenced (old ids of objects being re-created). */
  references: string[];
}

/**
 * A membership of a requested object in a group or administrative unit outside the request, as the snapshot holds it
 * (group → members): written on the parent's side with members/$ref, the member's id remapped when it is re-created.
 */
export interface PlannedMembership {
  /** The parent (a live group or administrative unit). */
  type: 'groups' | 'administrativeUnits';
  id: string;
  displayName: string | null;
  relationship: 'members';
  /** Snapshot ids of requested objects to add (remapped at apply time). */
  add: string[];
}

/** An app-role assignment the snapshot holds (on its resource's appRoleAssignedTo) that the live tenant lacks. */
export interface PlannedAssignment {
  /** Snapshot ids (remapped at apply time when principal or resource is re-created). */
  principalId: string;
  principalType: string | null;
  principalDisplayName: string | null;
  resourceId: string;
  resourceDisplayName: string | null;
  appRoleId: string;
}

/** A delegated permission grant the snapshot holds whose client, resource or principal is requested. */
export interface PlannedGrant {
  /** Snapshot ids (remapped at apply time). */
  clientId: string;
  consentType: string;
  principalId: string | null;
  resourceId: string;
  scope: string;
  /** `create`: the tenant has no grant for this client, resource and principal; `update-scope`: it has one, `liveId`. */
  action: 'create' | 'update-scope';
  liveId?: string;
  currentScope?: string;
}

/**
 * A directory role assignment (unifiedRoleAssignment) of a requested principal, or scoped to a requested
 * administrative unit: `create` when the snapshot holds it and the tenant lacks it, `remove` when the tenant holds one
 * for a requested principal that the snapshot does not.
 */
export interface PlannedRoleAssignment {
  action: 'create' | 'remove';
  /** Snapshot ids (remapped at apply time when the principal or the scope's administrative unit is re-created). */
  principalId: string;
  roleDefinitionId: string;
  /** `/`, `/administrativeUnits/{id}` or `/{application object id}`. */
  directoryScopeId: string;
  /** Remove only: the live assignment's id. */
  liveId?: string;
}

/**
 * A scoped role membership of an administrative unit (the AU's scopedRoleMembers: a member holding a directory role
 * over the AU) whose AU or member is requested: `create` when the snapshot holds it and the tenant lacks it (or cannot
 * tell, the AU being deleted), `remove` when a requested live AU holds one the snapshot does not.
 */
export interface PlannedScopedRoleMember {
  action: 'create' | 'remove';
  /** Snapshot ids (remapped at apply time when re-created). */
  administrativeUnitId: string;
  /** The activated directory role's id. */
  roleId: string;
  memberId: string;
  /** Remove only: the live membership's id. */
  liveId?: string;
}

export interface RestorePlan {
  v: 1;
  restoreId: string;
  tenantId: string;
  snapshotId: string;
  createdAt: string;
  /** Conditional access policies come back report-only unless the request asked for the captured state. */
  conditionalAccessState: 'report-only' | 'as-captured';
  objects: PlannedObject[];
  remaps: ReferenceRemap[];
  /** Relationship adds on parents outside the request that bring requested objects back into their groups and AUs. */
  memberships: PlannedMembership[];
  /** App-role assignments of requested principals or resources, created after service principals. */
  appRoleAssignments: PlannedAssignment[];
  /** Delegated permission grants (OAuth2) of requested clients, resources or users, created or re-scoped. */
  oauth2PermissionGrants: PlannedGrant[];
  /** Directory role assignments of requested principals and AUs (absent in plans made before they were restored). */
  roleAssignments?: PlannedRoleAssignment[];
  /** Scoped role memberships of requested AUs or members (absent in plans made before they were restored). */
  scopedRoleMembers?: PlannedScopedRoleMember[];
}

export interface PlanCounts {
  objects: number;
  unchanged: number;
  update: number;
  restoreFromRecycleBin: number;
  recreate: number;
  impossible: number;
  attributeChanges: number;
  relationshipChanges: number;
  /** Member adds on parents outside the request. */
  memberships: number;
  appRoleAssignments: number;
  oauth2PermissionGrants: number;
  /** Directory role assignments to create or remove. */
  roleAssignments?: number;
  /** Scoped role memberships of administrative units to create or remove. */
  scopedRoleMembers?: number;
}

/** What the workflow keeps of a plan: where it is stored and its hash, never the objects themselves. */
export interface PlanSummary {
  key: string;
  hash: string;
  counts: PlanCounts;
}

export type ObjectOutcome = 'restored' | 'partly-restored' | 'failed' | 'unchanged' | 'not-restorable';

export interface ObjectReport {
  type: string;
  id: string;
  /** The object's id now (differs from `id` when it was re-created). */
  liveId?: string;
  displayName: string | null;
  outcome: ObjectOutcome;
  /** Properties or relationships that did not come back, with why. */
  differences?: { name: string; expected: unknown; actual: unknown; why: string }[];
  error?: string;
}

export interface RestoreReport {
  v: 1;
  restoreId: string;
  objects: ObjectReport[];
  /** Old id → new id of every re-created object. */
  idMapping: Record<string, string>;
  secretsToReissue: { type: string; id: string; displayName: string | null; secrets: string[] }[];
  /** Users re-created with a temporary password (never shown): they must set a new one at next sign-in. */
  temporaryPasswordUsers: string[];
  fidelity: { restorable: number; restored: number };
}

export interface ReportSummary {
  key: string;
  restored: number;
  partlyRestored: number;
  failed: number;
  unchanged: number;
  fidelity: { restorable: number; restored: number };
  writeRequests: number;
}

export type RestoreStatus =
  | 'awaiting-consent'
  | 'planning'
  | 'awaiting-confirmation'
  | 'applying'
  | 'verifying'
  | 'completed'
  | 'partly-completed'
  | 'failed'
  | 'expired'
  | 'refused'
  /** The operator cancelled the plan instead of confirming it: nothing was written. */
  | 'cancelled';

/**
 * The order a plan is applied in: referenced objects exist before the objects that reference them. `appRoleAssignments`
 * and `memberships` are parts of the plan, not requested types: their stage runs when the plan counts any.
 */
export const APPLY_ORDER: readonly string[][] = [
  ['namedLocations'],
  ['users'],
  ['groups'],
  ['applications'],
  ['servicePrincipals'],
  ['appRoleAssignments', 'oauth2PermissionGrants'],
  ['administrativeUnits', 'memberships'],
  ['roleAssignments'],
  ['conditionalAccessPolicies'],
];

/** Types a restore can write back today (others are captured for browse, diff and export). */
export const RESTORABLE_TYPES: readonly string[] = [
  'namedLocations',
  'users',
  'groups',
  'applications',
  'servicePrincipals',
  'administrativeUnits',
  // Directory role assignments named in a request come back as role assignments of the plan (re-created with a new
  // id when gone, principal and AU scope remapped); they also come back with their principal or AU.
  'roleAssignments',
  'conditionalAccessPolicies',
];

export interface RestoreRequest {
  restoreId: string;
  tenantId: string;
  resellerId: string;
  directory: string;
  snapshotId: string;
  objects: RestoreTarget[];
  conditionalAccessState: 'report-only' | 'as-captured';
  /** Who asked (principal label, for the audit trail). */
  requestedBy: string;
  /** How long a plan waits for its confirmation. */
  confirmationTimeoutMs: number;
  /** How long a one-time consent request waits for an admin. */
  consentTimeoutMs: number;
}

export interface RestoreState {
  restoreId: string;
  tenantId: string;
  snapshotId: string;
  status: RestoreStatus;
  detail?: string;
  consent: { mode: 'permanent' | 'one-time'; consentUrl?: string; state: 'pending' | 'granted' | 'used' | 'revoked' };
  plan?: PlanSummary & { expiresAt: string };
  confirmedBy?: string;
  confirmedAt?: string;
  cancelledBy?: string;
  cancelledAt?: string;
  report?: ReportSummary;
  revocation?: { removed: number; manual?: string };
  requestedBy: string;
  startedAt: string;
  finishedAt?: string;
}

export const restoreWorkflowId = (tenantId: string, restoreId: string) => `restore:${tenantId}:${restoreId}`;
export const restoreWorkflowIdPrefix = (tenantId: string) => `restore:${tenantId}:`;
