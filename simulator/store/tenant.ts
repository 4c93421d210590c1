import {
  EntityKind,
  Json,
  MemberChange,
  SOFT_DELETABLE,
  StoredObject,
  Tombstone,
  TenantSize,
  ConsentMode,
  DirectoryAuditRecord,
} from './types';
import { StartsWithIndex } from './startswith-index';

export const RECYCLE_BIN_RETENTION_MS = 30 * 86400_000;

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The whole state of one simulated tenant. Objects are held once (index + per-kind map share the same record);
 * relationships are id sets; deletions leave tombstones so delta can report `@removed`.
 */
export class TenantStore {
  seq = 0;
  readonly objects = new Map<EntityKind, Map<string, StoredObject>>();
  readonly index = new Map<string, StoredObject>();
  readonly recycleBin = new Map<string, StoredObject>();
  readonly tombstones = new Map<string, Tombstone>();
  /** group / administrativeUnit id -> member ids */
  readonly members = new Map<string, Set<string>>();
  /** group / application / servicePrincipal id -> owner ids */
  readonly owners = new Map<string, Set<string>>();
  readonly memberLog = new Map<string, MemberChange[]>();
  /** application id -> its federated identity credentials (a relationship, not part of the application's data) */
  readonly federatedIdentityCredentials = new Map<string, StoredObject[]>();
  readonly singletons = new Map<string, Json>();
  /** The directory audit log, oldest first (graph/audit-log.ts). */
  readonly audit: DirectoryAuditRecord[] = [];
  /** Days the audit log keeps a record: Free 7, P1/P2 30 (reference-reports-data-retention). */
  auditRetentionDays = 30;
  /** Delta tokens issued before this simulated time answer 410 (control API can expire them on demand). */
  deltaTokensNotBefore = 0;
  /** Access tokens issued before this simulated time answer 401 (fault "tokenExpiry"). */
  accessTokensNotBefore = 0;
  consentMode: ConsentMode = 'page';
  /** Bumped whenever app-role assignments change; keys the granted-roles cache. */
  grantVersion = 0;
  readonly grantCache = new Map<string, Set<string>>();
  private listCache = new Map<EntityKind, { version: number; items: StoredObject[] }>();
  private versions = new Map<EntityKind, number>();
  /** `startswith` answers (partitioned listings and their counts) without a scan of the whole kind or group. */
  readonly startsWith = new StartsWithIndex(this);

  constructor(
    readonly id: string,
    public displayName: string,
    public defaultDomain: string,
  ) {}

  get size(): TenantSize {
    // https://learn.microsoft.com/en-us/graph/throttling-limits: S = under 50 users, M = 50-500, L = above 500.
    const users = this.collection('user').size;
    return users < 50 ? 'S' : users <= 500 ? 'M' : 'L';
  }

  collection(kind: EntityKind): Map<string, StoredObject> {
    let m = this.objects.get(kind);
    if (!m) this.objects.set(kind, (m = new Map()));
    return m;
  }

  /** Live objects of a kind in a stable order, cached until the collection gains or loses an object. */
  list(kind: EntityKind): StoredObject[] {
    const version = this.versions.get(kind) ?? 0;
    const cached = this.listCache.get(kind);
    if (cached && cached.version === version) return cached.items;
    const items = Array.from(this.collection(kind).values());
    this.listCache.set(kind, { version, items });
    return items;
  }

  private bump(kind: EntityKind): void {
    this.versions.set(kind, (this.versions.get(kind) ?? 0) + 1);
    this.startsWith.invalidateKind(kind);
  }

  get(id: string, kind?: EntityKind): StoredObject | undefined {
    const o = this.index.get(id);
    return o && (!kind || o.kind === kind) ? o : undefined;
  }

  insert(kind: EntityKind, id: string, data: Json): StoredObject {
    const seq = ++this.seq;
    const obj: StoredObject = { id, kind, data, seq, baseSeq: seq };
    this.collection(kind).set(id, obj);
    this.index.set(id, obj);
    this.tombstones.delete(id);
    this.bump(kind);
    return obj;
  }

  update(obj: StoredObject, patch: Json): void {
    const seq = ++this.seq;
    const changed: string[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const before = obj.data[k];
      if (v === null || v === undefined) delete obj.data[k];
      else obj.data[k] = v;
      if (!sameValue(before, obj.data[k])) {
        (obj.propSeq ??= {})[k] = seq;
        changed.push(k);
      }
    }
    obj.seq = seq;
    this.startsWith.invalidateKind(obj.kind, changed);
  }

  /** Records a change of a relationship held outside `data` (default `owners`). */
  touch(id: string, relationship = 'owners'): void {
    const o = this.index.get(id);
    if (!o) return;
    o.seq = ++this.seq;
    (o.propSeq ??= {})[relationship] = o.seq;
  }

  /** DELETE as Graph does it: soft-deletable kinds go to the recycle bin, others are gone. */
  remove(obj: StoredObject, at: string, hard = false): void {
    this.collection(obj.kind).delete(obj.id);
    this.index.delete(obj.id);
    this.bump(obj.kind);
    if (!hard && SOFT_DELETABLE.has(obj.kind)) {
      obj.deletedDateTime = at;
      this.recycleBin.set(obj.id, obj);
      this.tombstones.set(obj.id, { id: obj.id, kind: obj.kind, seq: ++this.seq, reason: 'changed' });
      // Soft-deleted users keep their memberships (https://learn.microsoft.com/en-us/graph/delta-query-groups); nothing
      // else to do.
      return;
    }
    this.purgeRelations(obj.id, obj.kind);
    this.tombstones.set(obj.id, { id: obj.id, kind: obj.kind, seq: ++this.seq, reason: 'deleted' });
  }

  permanentlyDelete(id: string): boolean {
    const obj = this.recycleBin.get(id);
    if (!obj) return false;
    this.recycleBin.delete(id);
    this.purgeRelations(id, obj.kind);
    this.tombstones.set(id, { id, kind: obj.kind, seq: ++this.seq, reason: 'deleted' });
    return true;
  }

  /**
   * Recycle-bin retention (https://learn.microsoft.com/en-us/graph/api/resources/directory?view=graph-rest-1.0: "After
   * 30 days, the items are permanently deleted",
   * https://learn.microsoft.com/en-us/graph/api/resources/directory?view=graph-rest-1.0). Returns the purged ids.
   */
  purgeExpired(nowMs: number, retentionMs = RECYCLE_BIN_RETENTION_MS): string[] {
    const purged: string[] = [];
    for (const [id, obj] of this.recycleBin) {
      const at = obj.deletedDateTime ? Date.parse(obj.deletedDateTime) : NaN;
      if (Number.isFinite(at) && nowMs - at >= retentionMs && this.permanentlyDelete(id)) purged.push(id);
    }
    return purged;
  }

  restore(id: string): StoredObject | undefined {
    const obj = this.recycleBin.get(id);
    if (!obj) return undefined;
    this.recycleBin.delete(id);
    delete obj.deletedDateTime;
    obj.seq = ++this.seq;
    obj.baseSeq = obj.seq;
    this.collection(obj.kind).set(id, obj);
    this.index.set(id, obj);
    this.tombstones.delete(id);
    this.bump(obj.kind);
    return obj;
  }

  private purgeRelations(id: string, kind: EntityKind): void {
    for (const [gid, set] of this.members) {
      if (set.delete(id)) {
        this.logMember(gid, id, true, kind);
        this.startsWith.invalidateMembers(gid);
      }
    }
    this.members.delete(id);
    this.startsWith.invalidateMembers(id);
    for (const set of this.owners.values()) set.delete(id);
    this.owners.delete(id);
    this.memberLog.delete(id);
    this.federatedIdentityCredentials.delete(id);
    // A principal or administrative unit deleted for good takes its directory role assignments and AU-scoped role
    // memberships with it: nothing can hold a role through an object that no longer exists.
    const scope = `/administrativeUnits/${id}`;
    for (const a of this.list('unifiedRoleAssignment'))
      if (a.data.principalId === id || a.data.directoryScopeId === scope) this.remove(a, '', true);
    for (const m of this.list('scopedRoleMembership'))
      if (m.data.administrativeUnitId === id || (m.data.roleMemberInfo as { id?: string } | null)?.id === id)
        this.remove(m, '', true);
  }

  memberSet(id: string): Set<string> {
    let s = this.members.get(id);
    if (!s) this.members.set(id, (s = new Set()));
    return s;
  }

  ownerSet(id: string): Set<string> {
    let s = this.owners.get(id);
    if (!s) this.owners.set(id, (s = new Set()));
    return s;
  }

  addMember(groupId: string, memberId: string, log = true): boolean {
    const set = this.memberSet(groupId);
    if (set.has(memberId)) return false;
    set.add(memberId);
    this.startsWith.invalidateMembers(groupId);
    if (log) this.logMember(groupId, memberId, false);
    return true;
  }

  removeMember(groupId: string, memberId: string): boolean {
    const set = this.members.get(groupId);
    if (!set || !set.delete(memberId)) return false;
    this.startsWith.invalidateMembers(groupId);
    this.logMember(groupId, memberId, true);
    return true;
  }

  private logMember(groupId: string, memberId: string, removed: boolean, kind?: EntityKind): void {
    const seq = ++this.seq;
    let log = this.memberLog.get(groupId);
    if (!log) this.memberLog.set(groupId, (log = []));
    log.push({ seq, id: memberId, removed, kind: kind ?? this.getAny(memberId)?.kind });
    const g = this.index.get(groupId);
    if (g) g.seq = seq;
  }

  /** Finds an object in the directory or the recycle bin. */
  getAny(id: string): StoredObject | undefined {
    return this.index.get(id) ?? this.recycleBin.get(id);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, m] of this.objects) out[k] = m.size;
    out.deletedItems = this.recycleBin.size;
    return out;
  }
}
