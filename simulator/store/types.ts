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
  | 'organization';

/** Kinds that go to the recycle bin on DELETE (graph-behaviour 8.8, current pages: security groups too). */
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
  /** Change sequence of the last create/update/restore; delta compares against it. */
  seq: number;
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
}

export type TenantSize = 'S' | 'M' | 'L';
export type ConsentMode = 'accept' | 'decline' | 'page';
