export { canonicalBytes, canonicalJson, contentId, sha256Hex } from './canonical-json';
export { IntegrityError } from './crypto';
export { GcsObjectStore } from './gcs-object-store';
export { DATA_KEY_FILE, DataKey, MasterKey, WrongMasterKeyError } from './data-keys';
export { RepositoryBusyError } from './locks';
export { auditPrefix, exportPrefix, reservedOverlap, RESERVED_PREFIXES, tenantRepositoryPrefix } from './locations';
export {
  ForeignRepositoryError,
  OWNER_FILE,
  UnownedRepositoryError,
  type OwnerRecord,
  type RepositoryOwner,
} from './owner';
export type { DeletedState, ManifestEntry } from './manifest';
export { MemoryObjectStore } from './memory-object-store';
export * from './object-store';
export type { PruneOptions, PruneReport } from './prune';
export type { CheckReport } from './check';
export type { RelationshipItem } from './relationships';
export {
  BlobNotFoundError,
  ForeignSnapshotError,
  Repository,
  type RepositoryOptions,
  type SnapshotInfo,
} from './repository';
export type { ChainReport, SnapshotRecord, TypeCoverage } from './snapshot';
export type { SyncState } from './sync-state';
export { SnapshotWriter, type CommitInput, type TypeOutcome } from './snapshot-writer';
export { TypeWriter, type AddObjectOptions, type TypeResult, type TypeWriteMode } from './type-writer';
export { BlobReadError, type BlobRead } from './blob-reads';
export { verifySnapshot, type BadBlobReport, type SnapshotVerification } from './verify-snapshot';
