import type { BlobLocation } from './blob';
import type { BlobSource } from './blob-io';
import { readBlobsReporting, type BlobRead } from './blob-reads';
import { readBlob, readBlobs, type RangedReadLimits } from './pack-reader';
import { checkRepository, type CheckReport } from './check';
import { readCheckpoint, type TypeCheckpoint } from './checkpoints';
import type { RepositoryContext } from './context';
import { IntegrityError, openCompressed, sealCompressed } from './crypto';
import { canonicalBytes } from './canonical-json';
import { DataKey, loadOrCreateDataKey, MasterKey } from './data-keys';
import { DEFAULT_LOCK_STALE_MS, Lock } from './locks';
import { readManifestEntries, withoutSearchKeys, type ManifestEntry } from './manifest';
import { ObjectNotFoundError, type ObjectStore } from './object-store';
import {
  ForeignRepositoryError,
  holdsNoData,
  readOwner,
  sameOwner,
  UnownedRepositoryError,
  writeOwner,
  type OwnerRecord,
  type RepositoryOwner,
} from './owner';
import { MasterIndex } from './pack-index';
import { pendingKey } from './pending';
import { DEFAULT_PACK_TARGET_SIZE } from './pack-writer';
import { pruneRepository, type PruneOptions, type PruneReport } from './prune';
import { readRelationship, type RelationshipItem } from './relationships';
import {
  decodeSnapshot,
  encodeSnapshot,
  FORGOTTEN_PREFIX,
  SNAPSHOT_PREFIX,
  snapshotKey,
  verifyChain,
  type ChainReport,
  type SnapshotRecord,
  type TypeCoverage,
} from './snapshot';
import { SnapshotWriter, type CommitInput } from './snapshot-writer';
import { parseSyncState, type SyncState } from './sync-state';
import { TypeWriter, type TypeWriteMode } from './type-writer';

/** Mutable sealed documents (restore plans and reports); never read by prune or check. */
export const DOCUMENT_PREFIX = 'documents/';

export interface RepositoryOptions {
  /** Target pack size in bytes (default 4 MiB). */
  packTargetSize?: number;
  /** Clock, for tests of retention and lock staleness. */
  now?: () => Date;
  lockStaleMs?: number;
  /**
   * The tenant opening the repository. A new repository records it as its owner; an owned one refuses any other
   * tenant (ForeignRepositoryError); every snapshot record read must name it. Unset (tools, tests): the recorded
   * owner, if any, is the one records are checked against.
   */
  owner?: RepositoryOwner;
  /**
   * A legacy tenant (typed bucket and prefix) may open a repository that holds data but records no owner; its
   * records are still checked against `owner`. Otherwise such a repository fails with UnownedRepositoryError.
   */
  allowUnowned?: boolean;
}

export interface SnapshotInfo {
  id: string;
  record: SnapshotRecord;
}

/** A snapshot record in the repository names another tenant: reported, never returned as a result. */
export class ForeignSnapshotError extends IntegrityError {
  constructor(
    readonly snapshotIds: string[],
    readonly tenantId: string,
  ) {
    super(
      `Integrity error: snapshot record(s) ${snapshotIds.join(', ')} in the repository of tenant ${tenantId} ` +
        `belong to another tenant`,
    );
    this.name = 'ForeignSnapshotError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`Blob ${id} is not in any index`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * A tenant's backup repository on an object store. The layout and formats are described in docs/storage-layout.md.
 * One handle may serve many readers and writers in one process; it caches the merged index and snapshot records.
 */
export class Repository {
  private readonly records = new Map<string, SnapshotRecord>();
  private readonly ctx: RepositoryContext;

  private constructor(
    store: ObjectStore,
    dataKey: DataKey,
    index: MasterIndex,
    options: RepositoryOptions,
    /** The recorded owner; undefined for a legacy repository not claimed yet. */
    readonly ownerRecord: OwnerRecord | undefined,
    /** Whose snapshot records this handle accepts. */
    private readonly tenantId: string | undefined,
  ) {
    const now = options.now ?? (() => new Date());
    const lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    const blobs: BlobSource = {
      readJson: async <T>(id: string) => JSON.parse((await this.readBlob(id)).toString('utf8')) as T,
    };
    this.ctx = {
      store,
      dataKey: dataKey.bytes(),
      index,
      blobs,
      packTargetSize: options.packTargetSize ?? DEFAULT_PACK_TARGET_SIZE,
      now,
      lockStaleMs,
      acquireLock: (kind, holder) => Lock.acquire(store, kind, { now, staleMs: lockStaleMs, holder }),
    };
  }

  /**
   * Opens (creating on first use) the repository at `store`. `masterKey` is the configured 32-byte key, base64 or
   * parsed; a wrong key fails here with WrongMasterKeyError.
   */
  static async open(
    store: ObjectStore,
    masterKey: MasterKey | string,
    options: RepositoryOptions = {},
  ): Promise<Repository> {
    const master = typeof masterKey === 'string' ? MasterKey.fromBase64(masterKey) : masterKey;
    const now = options.now?.() ?? new Date();
    const dataKey = await loadOrCreateDataKey(store, master, now);
    let owner = await readOwner(store, dataKey.bytes());
    const asking = options.owner;
    if (asking && !owner) {
      // A repository is owned from its creation; one without data is one whose creation stopped before the record.
      if (await holdsNoData(store)) owner = await writeOwner(store, dataKey.bytes(), asking, now);
      else if (!options.allowUnowned) throw new UnownedRepositoryError(asking);
    }
    if (asking && owner && !sameOwner(owner, asking)) throw new ForeignRepositoryError(owner.repositoryId, asking);
    const index = new MasterIndex();
    await index.refresh(store, dataKey.bytes());
    return new Repository(store, dataKey, index, options, owner, asking?.tenantId ?? owner?.tenantId);
  }

  /**
   * Records `owner` in a repository that has none (created before owner records existed), after checking that every
   * snapshot record in it names that tenant. For the operator's explicit claim of a legacy repository.
   */
  static async claim(store: ObjectStore, masterKey: MasterKey | string, owner: RepositoryOwner): Promise<Repository> {
    const repo = await Repository.open(store, masterKey, { owner, allowUnowned: true });
    if (repo.ownerRecord) return repo;
    await repo.listSnapshots();
    const recorded = await writeOwner(repo.ctx.store, repo.ctx.dataKey, owner, repo.ctx.now());
    if (!sameOwner(recorded, owner)) throw new ForeignRepositoryError(recorded.repositoryId, owner);
    return Repository.open(store, masterKey, { owner });
  }

  get store(): ObjectStore {
    return this.ctx.store;
  }

  /**
   * Re-reads index files written by other processes (e.g. other activities of the same backup), and all of them when
   * another process's prune removed some.
   */
  async refresh(): Promise<void> {
    if (!(await this.ctx.index.refresh(this.ctx.store, this.ctx.dataKey))) await this.reloadIndex();
  }

  /**
   * Runs a read through cached locations; when one names a pack that is gone (another process pruned since this
   * handle loaded its indexes), loads the indexes afresh and runs it once more.
   */
  private async afterPruneElsewhere<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      await this.reloadIndex();
      return read();
    }
  }

  // ---- writing -------------------------------------------------------------------------------------------------

  /**
   * Writer for one type of a snapshot (one per backup activity). `base`: the manifest to diff against;
   * `resumeFrom`: a checkpoint of an earlier attempt of the same writer.
   */
  openTypeWriter(
    type: string,
    options: { mode: TypeWriteMode; base?: string; resumeFrom?: string },
  ): Promise<TypeWriter> {
    return TypeWriter.open(this.ctx, type, options);
  }

  /** In-process writer of a whole snapshot: each type diffed against its latest manifest. */
  async startSnapshot(tenantId: string, startedAt: Date = this.ctx.now()): Promise<SnapshotWriter> {
    return new SnapshotWriter(this, tenantId, startedAt);
  }

  /**
   * Writes the snapshot record, last, after checking that every manifest it names is stored. The record names the
   * newest existing record as `previous`, extending the hash chain.
   */
  async commitSnapshot(input: CommitInput): Promise<SnapshotInfo> {
    if (this.tenantId !== undefined && input.tenantId !== this.tenantId) {
      throw new Error(
        `Refusing to commit a snapshot of tenant ${input.tenantId} into tenant ${this.tenantId}'s repository`,
      );
    }
    await this.refresh();
    for (const [type, coverage] of Object.entries(input.types)) {
      if (coverage.status === 'captured' && !this.ctx.index.has(coverage.manifest)) {
        throw new Error(`Type ${type}: manifest ${coverage.manifest} is not stored; refusing to commit`);
      }
    }
    const { records } = await this.ownRecords();
    const chain = verifyChain(records);
    const record: SnapshotRecord = {
      v: 1,
      tenantId: input.tenantId,
      startedAt: input.startedAt.toISOString(),
      finishedAt: (input.finishedAt ?? this.ctx.now()).toISOString(),
      previous: chain.heads[chain.heads.length - 1] ?? null,
      types: input.types,
    };
    const { id, bytes } = encodeSnapshot(this.ctx.dataKey, record);
    await this.ctx.store.put(snapshotKey(id), bytes, { ifGenerationMatch0: true });
    this.records.set(id, record);
    for (const coverage of Object.values(input.types)) {
      if (coverage.status === 'captured') await this.ctx.store.delete(pendingKey(coverage.manifest));
    }
    return { id, record };
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  /** Every readable snapshot record (forgotten ones too) and the ones that failed to decrypt or verify. */
  private async loadRecords(): Promise<{ records: Map<string, SnapshotRecord>; unreadable: Map<string, string> }> {
    const records = new Map<string, SnapshotRecord>();
    const unreadable = new Map<string, string>();
    for await (const info of this.ctx.store.list(SNAPSHOT_PREFIX)) {
      const id = info.key.slice(SNAPSHOT_PREFIX.length);
      const cached = this.records.get(id);
      if (cached) {
        records.set(id, cached);
        continue;
      }
      try {
        const bytes = await this.ctx.store.get(info.key);
        if (!bytes) continue;
        const record = decodeSnapshot(this.ctx.dataKey, id, bytes);
        this.records.set(id, record);
        records.set(id, record);
      } catch (err) {
        if (!(err instanceof IntegrityError) && !(err instanceof SyntaxError)) throw err;
        unreadable.set(id, err.message);
      }
    }
    return { records, unreadable };
  }

  /** The records of this handle's tenant; a record naming another tenant fails the read (ForeignSnapshotError). */
  private async ownRecords(): Promise<{ records: Map<string, SnapshotRecord>; unreadable: Map<string, string> }> {
    const loaded = await this.loadRecords();
    const foreign = [...loaded.records].filter(([, r]) => !this.belongs(r)).map(([id]) => id);
    if (foreign.length > 0) throw new ForeignSnapshotError(foreign.sort(), this.tenantId!);
    return loaded;
  }

  private belongs(record: SnapshotRecord): boolean {
    return this.tenantId === undefined || record.tenantId === this.tenantId;
  }

  private async forgottenIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const info of this.ctx.store.list(FORGOTTEN_PREFIX)) ids.add(info.key.slice(FORGOTTEN_PREFIX.length));
    return ids;
  }

  /**
   * Complete, verified, not forgotten snapshots, oldest first. A backup that never wrote its record does not exist
   * here; a record that fails to decrypt or verify is left out (verifyChain reports it).
   */
  async listSnapshots(): Promise<SnapshotInfo[]> {
    const [{ records }, forgotten] = await Promise.all([this.ownRecords(), this.forgottenIds()]);
    return [...records]
      .filter(([id]) => !forgotten.has(id))
      .map(([id, record]) => ({ id, record }))
      .sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt) || a.id.localeCompare(b.id));
  }

  async getSnapshot(id: string): Promise<SnapshotRecord> {
    let record = this.records.get(id);
    if (!record) {
      const bytes = await this.ctx.store.get(snapshotKey(id));
      if (!bytes) throw new Error(`Snapshot ${id} does not exist`);
      record = decodeSnapshot(this.ctx.dataKey, id, bytes);
      this.records.set(id, record);
    }
    if (!this.belongs(record)) throw new ForeignSnapshotError([id], this.tenantId!);
    return record;
  }

  /** Coverage of `type` in the newest kept snapshot that captured it: its manifest and sync state. */
  async latestCoverage(type: string): Promise<(TypeCoverage & { status: 'captured' }) | undefined> {
    const snapshots = await this.listSnapshots();
    for (let i = snapshots.length - 1; i >= 0; i--) {
      const coverage = snapshots[i].record.types[type];
      if (coverage?.status === 'captured') return coverage;
    }
    return undefined;
  }

  /** What an unfinished type writer recorded up to one of its checkpoints (for tools and tests). */
  readCheckpoint(id: string): Promise<TypeCheckpoint> {
    return readCheckpoint<TypeCheckpoint>(this.ctx.store, this.ctx.dataKey, id);
  }

  /** A small JSON blob by id. */
  async readJson<T>(id: string): Promise<T> {
    return JSON.parse((await this.readBlob(id)).toString('utf8')) as T;
  }

  /** The sync state a type's coverage names (`TypeCoverage.syncState`), checked for its shape. */
  async readSyncState(id: string): Promise<SyncState> {
    return parseSyncState(id, await this.readJson<unknown>(id));
  }

  /** Manifest root of the newest kept snapshot that captured `type` (the base for the next backup of it). */
  async latestManifest(type: string): Promise<string | undefined> {
    const snapshots = await this.listSnapshots();
    for (let i = snapshots.length - 1; i >= 0; i--) {
      const coverage = snapshots[i].record.types[type];
      if (coverage?.status === 'captured') return coverage.manifest;
    }
    return undefined;
  }

  private async manifestOf(snapshotId: string, type: string): Promise<string | undefined> {
    const coverage = (await this.getSnapshot(snapshotId)).types[type];
    return coverage?.status === 'captured' ? coverage.manifest : undefined;
  }

  /**
   * A type's manifest entries in a snapshot, sorted by object id; empty if the type was skipped. `searchKeys: false`
   * leaves each entry's search keys out as it is read (a reader that never searches them).
   */
  async listEntries(
    snapshotId: string,
    type: string,
    options: { searchKeys?: boolean } = {},
  ): Promise<ManifestEntry[]> {
    const manifest = await this.manifestOf(snapshotId, type);
    if (!manifest) return [];
    const keep = options.searchKeys === false ? withoutSearchKeys : undefined;
    const entries = [...(await readManifestEntries(this.ctx.blobs, manifest, keep)).values()];
    return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Plaintext (canonical JSON bytes) of one blob, with one ranged read, verified against its id. */
  async readBlob(id: string): Promise<Buffer> {
    return this.afterPruneElsewhere(async () => {
      let loc = this.ctx.index.get(id);
      if (!loc) {
        await this.refresh();
        loc = this.ctx.index.get(id);
      }
      if (!loc) throw new BlobNotFoundError(id);
      return readBlob(this.ctx.store, this.ctx.dataKey, loc);
    });
  }

  /** Where a blob is stored (its pack), for messages that name what failed; undefined when no index lists it. */
  locate(id: string): BlobLocation | undefined {
    return this.ctx.index.get(id);
  }

  /**
   * Many blobs with few requests: grouped by pack, neighbours coalesced into one ranged read, each segment opened once
   * and every blob verified against its id. Packs that hold none of them are not read. Order follows storage.
   */
  async *readBlobBatch(ids: Iterable<string>): AsyncIterable<{ id: string; plaintext: Buffer }> {
    const wanted = new Set(ids);
    for (let attempt = 0; ; attempt++) {
      const locations: BlobLocation[] = [];
      for (const id of wanted) {
        let loc = this.ctx.index.get(id);
        if (!loc) {
          await this.refresh();
          loc = this.ctx.index.get(id);
        }
        if (!loc) throw new BlobNotFoundError(id);
        locations.push(loc);
      }
      try {
        for await (const { location, plaintext } of readBlobs(this.ctx.store, this.ctx.dataKey, locations)) {
          wanted.delete(location.id);
          yield { id: location.id, plaintext };
        }
        return;
      } catch (err) {
        // A pack gone since the indexes were loaded (a prune elsewhere): the rest again, from fresh indexes.
        if (attempt > 0 || !(err instanceof ObjectNotFoundError)) throw err;
        await this.reloadIndex();
      }
    }
  }

  /** The stored canonical JSON bytes of one object version. */
  readObjectBytes(contentHash: string): Promise<Buffer> {
    return this.readBlob(contentHash);
  }

  async readObject<T = unknown>(contentHash: string): Promise<T> {
    return JSON.parse((await this.readBlob(contentHash)).toString('utf8')) as T;
  }

  /**
   * Blobs by id with coalesced ranged reads, each verified against its id; a bad or missing blob is yielded with a
   * BlobReadError naming it and its pack instead of ending the read (export and verify; see blob-reads.ts).
   */
  async *readBlobsReporting(ids: Iterable<string>, limits?: RangedReadLimits): AsyncIterable<BlobRead> {
    await this.refresh();
    yield* readBlobsReporting(this.ctx.store, this.ctx.dataKey, this.ctx.index, ids, limits);
  }

  readRelationship(relationshipHash: string): Promise<RelationshipItem[]> {
    return readRelationship(this.ctx.blobs, relationshipHash);
  }

  /**
   * Every object of a type in a snapshot, read pack by pack with coalesced ranged reads (a few requests per pack,
   * no pack scanned that holds none of them). Order follows storage, not ids.
   */
  async *readType(snapshotId: string, type: string): AsyncIterable<{ entry: ManifestEntry; object: unknown }> {
    const entries = await this.listEntries(snapshotId, type);
    const byHash = new Map<string, ManifestEntry[]>();
    for (const entry of entries) {
      const list = byHash.get(entry.contentHash) ?? [];
      list.push(entry);
      byHash.set(entry.contentHash, list);
    }
    for await (const { id, plaintext } of this.readBlobBatch(byHash.keys())) {
      const object: unknown = JSON.parse(plaintext.toString('utf8'));
      for (const entry of byHash.get(id) ?? []) yield { entry, object };
    }
  }

  /**
   * A sealed JSON document at `documents/{name}` (a restore's plan, id mapping and report): data of the tenant, so
   * encrypted with its data key like everything else, but mutable and outside packs and snapshots.
   */
  async writeDocument(name: string, value: unknown): Promise<void> {
    await this.ctx.store.put(
      DOCUMENT_PREFIX + name,
      sealCompressed(this.ctx.dataKey, 'document', canonicalBytes(value)),
    );
  }

  async readDocument<T>(name: string): Promise<T | undefined> {
    const bytes = await this.ctx.store.get(DOCUMENT_PREFIX + name);
    if (!bytes) return undefined;
    return JSON.parse(openCompressed(this.ctx.dataKey, 'document', bytes, `document ${name}`).toString('utf8')) as T;
  }

  // ---- integrity and retention ---------------------------------------------------------------------------------

  /** Verifies every snapshot record and the hash chain linking them. */
  async verifyChain(): Promise<ChainReport> {
    const { records, unreadable } = await this.loadRecords();
    const report = verifyChain(records, unreadable);
    const foreign = [...records].filter(([, r]) => !this.belongs(r)).map(([id]) => id);
    for (const id of foreign) report.problems.push(`snapshot ${id} belongs to another tenant`);
    return { ...report, ok: report.problems.length === 0 };
  }

  /** `restic check`: indexes against packs, every kept snapshot's references, and with readData every blob's hash. */
  async check(options: { readData?: boolean } = {}): Promise<CheckReport> {
    await this.refresh();
    const chain = await this.verifyChain();
    return checkRepository(this.ctx, await this.listSnapshots(), chain, options.readData ?? true);
  }

  /**
   * Marks snapshots as expired. Their records stay (they are links of the hash chain); prune then frees the data
   * only they referenced.
   */
  async forget(snapshotIds: readonly string[], reason = 'retention'): Promise<void> {
    for (const id of snapshotIds) {
      await this.getSnapshot(id);
      const body = Buffer.from(JSON.stringify({ snapshot: id, forgottenAt: this.ctx.now().toISOString(), reason }));
      await this.ctx.store.put(FORGOTTEN_PREFIX + id, sealCompressed(this.ctx.dataKey, 'forget', body), {
        ifGenerationMatch0: true,
      });
    }
  }

  /** Reads a forget marker (for audit views). */
  async forgetReason(snapshotId: string): Promise<{ forgottenAt: string; reason: string } | undefined> {
    const bytes = await this.ctx.store.get(FORGOTTEN_PREFIX + snapshotId);
    if (!bytes) return undefined;
    return JSON.parse(openCompressed(this.ctx.dataKey, 'forget', bytes).toString('utf8')) as {
      forgottenAt: string;
      reason: string;
    };
  }

  /** Deletes data no kept snapshot references; see prune.ts for the safety rules. */
  async prune(options: PruneOptions = {}): Promise<PruneReport> {
    // From the indexes as they are now, not as this handle cached them: a prune that failed half-way (this one's
    // earlier attempt, or another process's) may have rewritten them, and a cached entry would name a deleted pack.
    await this.reloadIndex();
    const kept = await this.listSnapshots();
    try {
      return await pruneRepository(this.ctx, kept, options);
    } finally {
      // Deleted indexes and packs must not linger in this handle's cache, whether prune finished or not.
      await this.reloadIndex();
    }
  }

  private async reloadIndex(): Promise<void> {
    const fresh = new MasterIndex();
    await fresh.refresh(this.ctx.store, this.ctx.dataKey);
    this.ctx.index = fresh;
  }
}
