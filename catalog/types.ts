/**
 * Shapes of the object-type catalog. Pure types: workflow code imports them, so nothing here may touch Node built-ins.
 */

/** Application permissions (Graph app roles) the Backup and Restore apps request. A union so typos fail to compile. */
export type GraphPermission =
  | 'User.Read.All'
  | 'User.ReadWrite.All'
  | 'Group.Read.All'
  | 'Group.ReadWrite.All'
  | 'GroupMember.Read.All'
  | 'GroupMember.ReadWrite.All'
  | 'Application.Read.All'
  | 'Application.ReadWrite.All'
  | 'AppRoleAssignment.ReadWrite.All'
  | 'Directory.Read.All'
  | 'DelegatedPermissionGrant.ReadWrite.All'
  | 'Policy.Read.All'
  | 'Policy.ReadWrite.ConditionalAccess'
  | 'Policy.Read.AuthenticationMethod'
  | 'Policy.ReadWrite.AuthenticationMethod'
  | 'Policy.ReadWrite.Authorization'
  | 'Policy.ReadWrite.CrossTenantAccess'
  | 'RoleManagement.Read.Directory'
  | 'RoleManagement.ReadWrite.Directory'
  | 'AdministrativeUnit.Read.All'
  | 'AdministrativeUnit.ReadWrite.All'
  | 'Domain.ReadWrite.All'
  | 'Organization.ReadWrite.All'
  | 'Device.ReadWrite.All'
  | 'AuditLog.Read.All';

/**
 * What a restore does with an object of the type. Every strategy PATCHes changed attributes of an object that still
 * exists; they differ in what happens when the object is gone:
 * - `recycle-bin-then-recreate`: restore it from /directory/deletedItems if it is there, else POST it again (new id,
 *   references remapped).
 * - `recreate-with-id-remap`: no recycle bin; POST it again and remap every reference to the new id.
 * - `upsert-by-key`: the id is a natural key (e.g. a partner tenant id), so re-creating keeps the id.
 * - `patch`: cannot be re-created through Graph (domains need DNS proof, devices register themselves); only PATCH.
 * - `singleton-patch`: one object per tenant that always exists; PATCH it.
 * - `not-restorable`: captured for history, browse and diff only.
 */
export type RestoreStrategy =
  | 'recycle-bin-then-recreate'
  | 'recreate-with-id-remap'
  | 'upsert-by-key'
  | 'patch'
  | 'singleton-patch'
  | 'not-restorable';

/** How a captured relationship is written back (restore issue). */
export type RelationshipRestore =
  /** POST {path}/$ref with an @odata.id per target (members, owners). */
  | 'add-ref'
  /** POST each captured item as a new object (appRoleAssignments, scopedRoleMembers). */
  | 'create'
  /** Captured for browse and diff; restored through another type (e.g. directory role members via roleAssignments). */
  | 'via-other-type';

/** Why a type was not captured, as shown in a snapshot's coverage report. */
export type SkipReason = 'permission-missing' | 'feature-not-licensed' | 'graph-error';

/** A Graph answer that means "this tenant does not have the feature", not "the backup failed". */
export interface ExpectedError {
  status: number;
  /** Graph `error.code`; matching on code is preferred (Microsoft: messages change). */
  code?: string;
  /** Lower-case fragment of `error.message`, only where no distinctive code is known. */
  messageIncludes?: string;
  reason: SkipReason;
}

export interface RelationshipSpec {
  /** Name of the relationship as stored in manifests, e.g. 'members'. */
  key: string;
  /** Path template relative to the Graph version root; `{id}` is the parent's id. */
  path: string;
  /** Properties to keep for each related item; `id` is always among them. */
  select: readonly string[];
  /** `$top` to send, or null where Graph has no paging for it (nextLinks are still followed if present). */
  pageSize: number | null;
  /** Catalog types the related items belong to (ids that a restore has to remap). */
  targets: readonly string[];
  readPermission: GraphPermission;
  writePermissions: readonly GraphPermission[];
  restore: RelationshipRestore;
  /**
   * Directory audit activities (`activityDisplayName`, matched as a prefix after normalising dashes, case and a
   * trailing period) recorded when this relationship of an object changes; the object is named by a target's `id`
   * or a `….ObjectID` modified property. A backup between full reads re-reads the relationship of exactly those
   * objects, unless delta reports it (`DeltaSpec.tracks`).
   * https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities
   */
  auditActivities?: readonly string[];
  /**
   * How a list too long to page through one page after another (an all-users group's 100,000 members: 100 pages
   * of about a second each) is read in parallel: the items of the `cast` type in `startswith` partitions of `by`, the
   * items of every `otherCasts` type whole, each an OData cast of the relationship. Graph counts the whole list, so a
   * member of a type named nowhere here is caught, not lost (activities/backup/relationship-partitions.ts).
   */
  partitionBy?: RelationshipPartitionSpec;
}

export interface RelationshipPartitionSpec {
  /** OData cast of the partitioned items, e.g. 'microsoft.graph.user'. */
  cast: string;
  by: PartitionSpec;
  /** OData casts of the other item types, each read whole. */
  otherCasts: readonly string[];
}

export interface DeltaSpec {
  /** Path of the delta function, e.g. '/users/delta'. Delta does not accept $top: page size is Graph's. */
  path: string;
  /** Relationships that delta reports inline (`members@delta` when `$select` names them). */
  tracks?: readonly string[];
}

/** A `startswith` partitioning of a type's listing (see ObjectTypeSpec.partitionBy). */
export interface PartitionSpec {
  property: string;
  /** Characters a value may begin with (letters in lower case: Graph compares case-insensitively). */
  first: string;
  /** Characters that may follow. */
  next: string;
}

export interface ObjectTypeSpec {
  key: string;
  /** Label for coverage reports and the UI. */
  label: string;
  /** Collection (or singleton) path relative to https://graph.microsoft.com/v1.0. */
  path: string;
  /**
   * Properties for `$select`: all a restore needs, never ones Graph refuses in lists (single-GET-only properties,
   * signInActivity which lowers the page size and needs another permission). null: send no `$select`, because
   * Graph already returns the whole object (policies) or the collection is polymorphic (named locations).
   */
  select: readonly string[] | null;
  /** Largest `$top` Graph accepts for the list, or null where it has no paging or documents no `$top`. */
  pageSize: number | null;
  delta: DeltaSpec | null;
  /** One object per tenant, read with a plain GET of `path` (no `value` array). */
  singleton: boolean;
  /** Property holding the object's id; 'id' unless the resource is keyed otherwise. */
  idProperty: string;
  /** Property shown as the object's name in manifests; null when the type has none. */
  displayNameProperty: string | null;
  relationships: readonly RelationshipSpec[];
  /**
   * How a large full read is cut into listings read in parallel: `startswith(property,'prefix')` over the characters
   * the property's values may begin with (`first`) and continue with (`next`). Omitted for types read in one listing.
   */
  partitionBy?: PartitionSpec;
  permissions: { read: GraphPermission; write: readonly GraphPermission[] };
  /** The OData cast for /directory/deletedItems/{cast}, or null when deleted objects are gone for good. */
  deletedItemsCast: string | null;
  restore: {
    strategy: RestoreStrategy;
    /** Types whose objects must exist before this type's objects are created (ids referenced in its JSON). */
    dependsOn: readonly string[];
    /** Server-managed properties to drop from the body of a POST. */
    stripOnCreate: readonly string[];
    /** Objects with these property values are never written back (e.g. built-in role definitions). */
    skipWhen?: Readonly<Record<string, string | boolean | number>>;
  };
  expectedErrors: readonly ExpectedError[];
}
