import { searchProperties } from '../catalog';
import { canonicalBytes } from './canonical-json';
import { checkpointKey, readCheckpoint, writeCheckpoint, type TypeCheckpoint, type TypeWriteMode } from './checkpoints';
import { BlobWriter } from './blob-writer';
import type { RepositoryContext } from './context';
import type { Lock } from './locks';
import { pendingKey } from './pending';
import {
  readManifestEntries,
  readManifestRoot,
  sameEntry,
  searchKeysOf,
  writeManifest,
  type DeletedState,
  type ManifestEntry,
  type ManifestRoot,
} from './manifest';
import { writeRelationship, type RelationshipItem } from './relationships';
import type { SyncState } from './sync-state';

export type { TypeWriteMode };

export interface AddObjectOptions {
  state?: DeletedState;
  /** Relationship name → related items, e.g. { members: [...], owners: [...] }. */
  relationships?: Record<string, readonly RelationshipItem[]>;
  /** The object's search keys (`searchKeysOf`), for `addCanonicalObject`; `addObject` takes them from the object. */
  search?: string[];
}

/** What finishing a type returns: small and serialisable, so an activity can hand it to the workflow. */
export interface TypeResult {
  type: string;
  manifest: string;
  count: number;
  softDeleted: number;
  blobsAdded: number;
  blobsDeduplicated: number;
  packsWritten: number;
  bytesWritten: number;
  /** Blob id of the sync state given with `setSyncState`, if any. */
  syncState?: string;
}

/**
 * Writes one type of one snapshot: object blobs stream into packs as they are added; the manifest (full or diff
 * against `base`) and the index are written by `finish`. Entries (~200 bytes each) are kept in memory, object JSON
 * is not. Calls are serialised, so concurrent `addObject` calls are safe.
 */
export class TypeWriter {
  private readonly entries: Map<string, ManifestEntry>;
  private readonly upserted = new Set<string>();
  private readonly removed = new Set<string>();
  /** Ids whose entry changed since the last checkpoint; the checkpoint chain so far (deleted by `finish`). */
  private readonly sinceCheckpoint = new Set<string>();
  private readonly checkpoints: string[] = [];
  /** The checkpoint file being written, if any (see `checkpoint`). */
  private checkpointWrite: Promise<void> = Promise.resolve();
  private readonly blobs: BlobWriter;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private syncState: SyncState | undefined;

  private constructor(
    private readonly ctx: RepositoryContext,
    readonly type: string,
    readonly mode: TypeWriteMode,
    private readonly base: { id: string; root: ManifestRoot; entries: Map<string, ManifestEntry> } | undefined,
    private readonly lock: Lock,
  ) {
    this.entries = mode === 'changes' && base ? new Map(base.entries) : new Map();
    this.blobs = new BlobWriter(ctx.store, ctx.dataKey, ctx.index, ctx.packTargetSize, () => lock.refreshIfDue());
  }

  static async open(
    ctx: RepositoryContext,
    type: string,
    options: { mode: TypeWriteMode; base?: string; resumeFrom?: string },
  ): Promise<TypeWriter> {
    if (options.mode === 'changes' && !options.base)
      throw new Error(`Type ${type}: 'changes' mode needs a base manifest`);
    const lock = await ctx.acquireLock('shared');
    try {
      const base = options.base
        ? {
            id: options.base,
            root: await readManifestRoot(ctx.blobs, options.base),
            entries: await readManifestEntries(ctx.blobs, options.base),
          }
        : undefined;
      const writer = new TypeWriter(ctx, type, options.mode, base, lock);
      if (options.resumeFrom) await writer.restore(options.resumeFrom);
      return writer;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`Type writer for ${this.type} is closed`));
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private put(entry: ManifestEntry): void {
    const before = this.base?.entries.get(entry.id);
    this.sinceCheckpoint.add(entry.id);
    this.entries.set(entry.id, entry);
    this.removed.delete(entry.id);
    if (before && sameEntry(before, entry)) this.upserted.delete(entry.id);
    else this.upserted.add(entry.id);
  }

  /** Stores one object version (deduplicated) and records it; returns its content hash. */
  addObject(id: string, displayName: string | null, json: unknown, options: AddObjectOptions = {}): Promise<string> {
    const search = options.search ?? searchKeysOf(searchProperties(this.type), json);
    return this.addCanonicalObject(id, displayName, canonicalBytes(json), { ...options, search });
  }

  /**
   * `addObject` for a version already in canonical JSON (a worker thread built the stored form): `canonical` are its
   * bytes, kept until their pack segment is sealed. The content hash is computed here and only here, so a blob's id
   * is always the SHA-256 of its bytes.
   */
  addCanonicalObject(
    id: string,
    displayName: string | null,
    canonical: Buffer,
    options: AddObjectOptions = {},
  ): Promise<string> {
    return this.serial(async () => {
      await this.lock.refreshIfDue();
      const savedHash = await this.blobs.saveBytes('object', canonical);
      let rels: Record<string, string> | undefined;
      if (options.relationships) {
        rels = {};
        for (const name of Object.keys(options.relationships).sort()) {
          rels[name] = await writeRelationship(this.blobs, options.relationships[name]);
        }
      }
      // Keys in canonical order: comparing and storing entries then serialises them at V8's speed.
      const entry: ManifestEntry = {
        contentHash: savedHash,
        displayName,
        id,
        ...(rels ? { rels } : {}),
        ...(options.search ? { search: options.search } : {}),
        state: options.state ?? 'present',
      };
      this.put(entry);
      return savedHash;
    });
  }

  /**
   * Keeps this writer's lock fresh while the caller waits on Graph (call it where the activity heartbeats): prune
   * treats a writer silent for longer than the lock's stale period as dead.
   */
  heartbeat(): Promise<void> {
    return this.lock.refreshIfDue();
  }

  /** Records an entry whose blobs are already stored (e.g. carried from an earlier snapshot). */
  addEntry(entry: ManifestEntry): Promise<void> {
    return this.serial(async () => {
      for (const id of [entry.contentHash, ...Object.values(entry.rels ?? {})]) {
        if (!this.blobs.has(id))
          throw new Error(`Type ${this.type}: entry ${entry.id} names blob ${id}, which is not stored`);
      }
      this.put({ ...entry });
    });
  }

  /** The entry this writer holds for `id` now (carried from the base or written here), if any. */
  currentEntry(id: string): ManifestEntry | undefined {
    return this.entries.get(id);
  }

  /**
   * Replaces some relationship lists of an object this writer already holds (e.g. carried from the base), keeping its
   * content and its other relationships: the directory audit log said they changed, delta did not.
   */
  replaceRelationships(id: string, relationships: Record<string, readonly RelationshipItem[]>): Promise<void> {
    return this.serial(async () => {
      const current = this.entries.get(id);
      if (!current) return;
      const rels: Record<string, string> = { ...(current.rels ?? {}) };
      for (const name of Object.keys(relationships).sort()) {
        rels[name] = await writeRelationship(this.blobs, relationships[name]);
      }
      // Keys in canonical order, as in `addCanonicalObject`.
      const sorted: Record<string, string> = {};
      for (const name of Object.keys(rels).sort()) sorted[name] = rels[name];
      this.put({
        contentHash: current.contentHash,
        displayName: current.displayName,
        id: current.id,
        rels: sorted,
        ...(current.search ? { search: current.search } : {}),
        state: current.state,
      });
    });
  }

  /** True when the base manifest (the previous snapshot of the type) has an entry for `id`. */
  hasBaseEntry(id: string): boolean {
    return this.base?.entries.has(id) ?? false;
  }

  /** Delta said "changed" @removed: the object sits in the recycle bin; its last content is kept. */
  markSoftDeleted(id: string): Promise<void> {
    return this.serial(async () => {
      const current = this.entries.get(id) ?? this.base?.entries.get(id);
      if (!current) return;
      this.put({ ...current, state: 'softDeleted' });
    });
  }

  /** Delta said "deleted" @removed (or a full read no longer sees it): the object is gone for good. */
  remove(id: string): Promise<void> {
    return this.serial(async () => {
      this.sinceCheckpoint.add(id);
      this.entries.delete(id);
      this.upserted.delete(id);
      if (this.base?.entries.has(id)) this.removed.add(id);
    });
  }

  /**
   * Makes everything added so far durable (packs, index) and stores what changed since the last checkpoint as one
   * file; resolves to its id, which goes into the activity's heartbeat next to the Graph page link. Adding goes on
   * while the file is sealed and uploaded (for 100,000 users that took seconds the listing spent waiting): only the
   * flush and the taking of the entries hold the writer.
   */
  checkpoint(): Promise<string> {
    let written!: Promise<string>;
    const taken = this.serial(async () => {
      // The chain needs the previous checkpoint's id.
      await this.checkpointWrite;
      await this.blobs.flush();
      const entries: ManifestEntry[] = [];
      const removed: string[] = [];
      for (const id of this.sinceCheckpoint) {
        const entry = this.entries.get(id);
        if (entry) entries.push(entry);
        else removed.push(id);
      }
      // Keys in canonical order (see `isCanonicalAsIs`).
      const state: TypeCheckpoint = {
        base: this.base?.id ?? null,
        entries,
        mode: this.mode,
        previous: this.checkpoints.at(-1) ?? null,
        removed,
        type: this.type,
        v: 2,
      };
      this.sinceCheckpoint.clear();
      written = writeCheckpoint(this.ctx.store, this.ctx.dataKey, state).then(
        (id) => {
          this.checkpoints.push(id);
          return id;
        },
        (err: unknown) => {
          // Its entries go into the next checkpoint instead.
          for (const e of entries) this.sinceCheckpoint.add(e.id);
          for (const id of removed) this.sinceCheckpoint.add(id);
          throw err;
        },
      );
      this.checkpointWrite = written.then(
        () => undefined,
        () => undefined,
      );
    });
    return taken.then(() => written);
  }

  /** Replays a checkpoint chain, oldest first; the next checkpoint continues the chain. */
  private async restore(checkpointId: string): Promise<void> {
    const chain: TypeCheckpoint[] = [];
    for (let id: string | null = checkpointId; id;) {
      const state: TypeCheckpoint = await readCheckpoint<TypeCheckpoint>(this.ctx.store, this.ctx.dataKey, id);
      if (
        state.v !== 2 ||
        state.type !== this.type ||
        state.mode !== this.mode ||
        state.base !== (this.base?.id ?? null)
      ) {
        throw new Error(`Type ${this.type}: checkpoint ${id} belongs to another writer`);
      }
      chain.unshift(state);
      this.checkpoints.unshift(id);
      id = state.previous;
    }
    for (const state of chain) {
      for (const entry of state.entries) await this.addEntry(entry);
      for (const id of state.removed) await this.remove(id);
    }
    this.sinceCheckpoint.clear();
  }

  /** Where the next backup of this type continues reading (e.g. a Graph delta link); stored by `finish`. */
  setSyncState(state: SyncState): void {
    this.syncState = state;
  }

  /** Writes the remaining pack, the manifest and the index; then the type's part of the snapshot is durable. */
  finish(): Promise<TypeResult> {
    return this.serial(async () => {
      if (this.mode === 'full' && this.base) {
        for (const id of this.base.entries.keys()) if (!this.entries.has(id)) this.removed.add(id);
      }
      const manifest = await writeManifest(this.blobs, {
        type: this.type,
        base: this.base,
        entries: this.entries,
        upserted: this.upserted,
        removed: this.removed,
      });
      const syncState =
        this.syncState === undefined ? undefined : await this.blobs.saveJson('sync-state', this.syncState);
      await this.blobs.flush();
      // Until a snapshot record names this manifest, the pending marker keeps prune from collecting what it uses.
      await this.ctx.store.put(pendingKey(manifest), Buffer.from(this.ctx.now().toISOString()));
      this.closed = true;
      await this.lock.release();
      // Worthless now. A failed delete leaves a file that prune removes once it is older than its grace period.
      await this.checkpointWrite;
      for (const id of this.checkpoints) await this.ctx.store.delete(checkpointKey(id)).catch(() => undefined);
      let softDeleted = 0;
      for (const e of this.entries.values()) if (e.state === 'softDeleted') softDeleted++;
      return {
        type: this.type,
        manifest,
        count: this.entries.size,
        softDeleted,
        blobsAdded: this.blobs.stats.blobsAdded,
        blobsDeduplicated: this.blobs.stats.blobsDeduplicated,
        packsWritten: this.blobs.packStats.packs,
        bytesWritten: this.blobs.packStats.bytes,
        ...(syncState ? { syncState } : {}),
      };
    });
  }

  /**
   * Gives up without a manifest. What was stored is still indexed, so a retry deduplicates against it; unreferenced,
   * it is garbage for prune.
   */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    try {
      await this.blobs.flush();
    } finally {
      await this.lock.release();
    }
  }
}
