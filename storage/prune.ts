import type { RepositoryContext } from './context';
import { listPacks } from './check';
import type { ObjectInfo } from './object-store';
import { indexKey, INDEX_PREFIX, MasterIndex, writeIndex } from './pack-index';
import { packBlobs, parsePack } from './pack-reader';
import { packKey, PackWriter, type WrittenPack } from './pack-writer';
import { PENDING_PREFIX } from './pending';
import { listCheckpoints } from './checkpoints';
import type { ManifestEntry } from './manifest';
import { reachableFrom } from './reachability';
import type { SnapshotRecord } from './snapshot';

export interface PruneOptions {
  /**
   * Packs and indexes younger than this are never deleted or rewritten, and pending manifests (types finished by a
   * backup whose snapshot record is not written yet) younger than this count as roots. Default 24 h.
   */
  graceMs?: number;
  /** A pack whose garbage share (by bytes) reaches this is rewritten with only its live blobs. Default 0.5. */
  repackThreshold?: number;
  /** Names the exclusive lock (see Lock.acquire): a retried prune takes over the lock its killed attempt left. */
  lockHolder?: string;
  /**
   * Stops the prune between two steps (each step leaves the repository valid): a prune whose activity was given up
   * on (heartbeat timeout) must not go on deleting next to the attempt that replaced it.
   */
  signal?: AbortSignal;
}

export interface PruneReport {
  keptSnapshots: number;
  liveBlobs: number;
  deletedPacks: string[];
  repackedPacks: string[];
  newPacks: string[];
  deletedIndexes: string[];
  newIndex: string | null;
  /** Old packs no index lists (left by crashed backups). */
  deletedOrphanPacks: string[];
  /** Checkpoints older than the grace period (of backups that never finished). */
  deletedCheckpoints: number;
  bytesFreed: number;
}

export const DEFAULT_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Mark and sweep under an exclusive lock (backups hold shared locks, so prune and a backup never overlap; the
 * loser of a race gets RepositoryBusyError and retries later). Order keeps the repository valid after a crash at
 * any step: new packs → new index → delete old indexes → delete packs. Deleting packs before their index entries
 * would let a writer deduplicate against a blob that no longer exists.
 */
export async function pruneRepository(
  ctx: RepositoryContext,
  kept: readonly { id: string; record: SnapshotRecord }[],
  { graceMs = DEFAULT_GRACE_MS, repackThreshold = 0.5, lockHolder, signal }: PruneOptions = {},
): Promise<PruneReport> {
  signal?.throwIfAborted();
  const lock = await ctx.acquireLock('exclusive', lockHolder);
  // A prune may outlast the lock's stale period (a big repository): unrefreshed, a backup would start next to it.
  const step = async () => {
    signal?.throwIfAborted();
    await lock.refreshIfDue();
  };
  try {
    const now = ctx.now().getTime();
    const young = (info: ObjectInfo): boolean => now - info.updated.getTime() < graceMs;

    const index = new MasterIndex();
    await index.refresh(ctx.store, ctx.dataKey);
    const view: RepositoryContext = { ...ctx, index };
    const packInfos = await listPacks(view);
    const indexInfos = new Map<string, ObjectInfo>();
    for await (const info of ctx.store.list(INDEX_PREFIX)) indexInfos.set(info.key.slice(INDEX_PREFIX.length), info);

    // Mark.
    const roots = kept.flatMap(({ record }) =>
      Object.values(record.types).flatMap((t) => (t.status === 'captured' ? [t.manifest] : [])),
    );
    const stalePending: string[] = [];
    for await (const info of ctx.store.list(PENDING_PREFIX)) {
      if (young(info)) roots.push(info.key.slice(PENDING_PREFIX.length));
      else stalePending.push(info.key);
    }
    // A young checkpoint belongs to a backup that may still resume from it: what it names stays, even blobs it
    // deduplicated against that no kept snapshot uses any more. An old one's backup is long dead.
    const staleCheckpoints: string[] = [];
    const resumable: ManifestEntry[] = [];
    for await (const checkpoint of listCheckpoints(ctx.store, ctx.dataKey)) {
      await step();
      if (!young(checkpoint)) {
        staleCheckpoints.push(checkpoint.key);
        continue;
      }
      const state = await checkpoint.read();
      if (state.base) roots.push(state.base);
      resumable.push(...state.entries);
    }
    const { live, missing } = await reachableFrom(view, roots, { extraEntries: resumable, signal });
    await step();
    // Sync states hang off records, not manifests: the next backup of a kept snapshot's type reads them.
    for (const { record } of kept) {
      for (const t of Object.values(record.types)) if (t.status === 'captured' && t.syncState) live.add(t.syncState);
    }
    if (missing.length > 0) {
      throw new Error(
        `Refusing to prune: ${missing.length} referenced blobs are missing (run check), e.g. ${missing[0]}`,
      );
    }

    // Sweep: only packs that are old and listed by old indexes only.
    const oldIndexes = new Set([...indexInfos].filter(([, info]) => !young(info)).map(([id]) => id));
    const toDelete = new Set<string>();
    const toRepack = new Set<string>();
    for (const pack of index.packs.values()) {
      const info = packInfos.get(pack.id);
      if (!info || young(info) || [...pack.indexIds].some((id) => !oldIndexes.has(id))) continue;
      // By plaintext size: a segment's sealed bytes are shared by its blobs.
      let total = 0;
      let liveBytes = 0;
      for (const blob of pack.blobs) {
        total += blob.size;
        if (live.has(blob.id) && index.get(blob.id)?.packId === pack.id) liveBytes += blob.size;
      }
      if (liveBytes === 0) toDelete.add(pack.id);
      else if ((total - liveBytes) / total >= repackThreshold) toRepack.add(pack.id);
    }

    const writer = new PackWriter(ctx.store, ctx.dataKey, ctx.packTargetSize);
    const newPacks: WrittenPack[] = [];
    for (const packId of toRepack) {
      await step();
      const bytes = await ctx.store.get(packKey(packId));
      if (!bytes) throw new Error(`pack ${packId} vanished during prune`);
      const keep = parsePack(ctx.dataKey, packId, bytes).filter(
        (blob) => live.has(blob.id) && index.get(blob.id)?.packId === packId,
      );
      for (const { blob, plaintext, error } of packBlobs(ctx.dataKey, packId, bytes, keep)) {
        if (error) throw error;
        const written = await writer.add(blob.id, blob.kind, plaintext!);
        if (written) newPacks.push(written);
      }
    }
    const last = await writer.flush();
    if (last) newPacks.push(last);

    // One index replaces all old ones: the packs they list that stay, plus the rewritten packs.
    const remaining = [...index.packs.values()]
      .filter((p) => [...p.indexIds].some((id) => oldIndexes.has(id)) && !toDelete.has(p.id) && !toRepack.has(p.id))
      .map(({ id, size, blobs }) => ({
        id,
        size,
        blobs: blobs.map(({ id, kind, offset, length, start, size }) => ({ id, kind, offset, length, start, size })),
      }));
    const consolidated = [...remaining, ...newPacks];
    await step();
    const newIndex = consolidated.length > 0 ? await writeIndex(ctx.store, ctx.dataKey, consolidated) : null;
    for (const id of oldIndexes) if (id !== newIndex) await ctx.store.delete(indexKey(id));

    let bytesFreed = 0;
    for (const packId of [...toDelete, ...toRepack]) {
      await step();
      bytesFreed += packInfos.get(packId)?.size ?? 0;
      await ctx.store.delete(packKey(packId));
    }
    const orphans = [...packInfos].filter(([id, info]) => !index.packs.has(id) && !young(info)).map(([id]) => id);
    for (const packId of orphans) {
      await step();
      bytesFreed += packInfos.get(packId)?.size ?? 0;
      await ctx.store.delete(packKey(packId));
    }

    await step();
    for (const key of stalePending) await ctx.store.delete(key);
    for (const key of staleCheckpoints) await ctx.store.delete(key);

    return {
      keptSnapshots: kept.length,
      liveBlobs: live.size,
      deletedPacks: [...toDelete],
      repackedPacks: [...toRepack],
      newPacks: newPacks.map((p) => p.id),
      deletedIndexes: [...oldIndexes].filter((id) => id !== newIndex),
      newIndex,
      deletedOrphanPacks: orphans,
      deletedCheckpoints: staleCheckpoints.length,
      bytesFreed,
    };
  } finally {
    await lock.release();
  }
}
