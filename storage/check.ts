import { sha256Hex } from './canonical-json';
import type { RepositoryContext } from './context';
import type { ObjectInfo } from './object-store';
import { packBlobs, parsePack } from './pack-reader';
import { packKey } from './pack-writer';
import { reachableFrom } from './reachability';
import type { ChainReport, SnapshotRecord } from './snapshot';

export interface CheckReport {
  ok: boolean;
  errors: string[];
  /** Not errors: e.g. packs no index lists yet (a crashed or running backup); prune removes them after the grace period. */
  notes: string[];
  packsChecked: number;
  blobsChecked: number;
  snapshotsChecked: number;
  chain: ChainReport;
}

export const PACK_PREFIX = 'packs/';

export async function listPacks(ctx: RepositoryContext): Promise<Map<string, ObjectInfo>> {
  const packs = new Map<string, ObjectInfo>();
  for await (const info of ctx.store.list(PACK_PREFIX)) packs.set(info.key.slice(PACK_PREFIX.length), info);
  return packs;
}

export async function checkRepository(
  ctx: RepositoryContext,
  kept: readonly { id: string; record: SnapshotRecord }[],
  chain: ChainReport,
  readData: boolean,
): Promise<CheckReport> {
  const errors = [...chain.problems];
  const notes: string[] = [];
  const stored = await listPacks(ctx);
  let blobsChecked = 0;

  for (const pack of ctx.index.packs.values()) {
    const info = stored.get(pack.id);
    if (!info) errors.push(`index lists pack ${pack.id}, which is missing`);
    else if (info.size !== pack.size) errors.push(`pack ${pack.id} is ${info.size} bytes, index says ${pack.size}`);
  }

  if (readData) {
    for (const packId of stored.keys()) {
      const bytes = await ctx.store.get(packKey(packId));
      if (!bytes) continue;
      const indexed = ctx.index.packs.get(packId);
      if (indexed && sha256Hex(bytes) !== packId) {
        // A damaged pack: name every blob in it that no longer verifies (the index says where they are), not just
        // the pack, so a report shows which objects are lost.
        errors.push(`pack ${packId}: bytes do not match the pack's name`);
        for (const { blob, error } of packBlobs(ctx.dataKey, packId, bytes, indexed.blobs)) {
          if (error) errors.push(`blob ${blob.id} in pack ${packId}: ${error.message}`);
          else blobsChecked++;
        }
        continue;
      }
      try {
        const header = parsePack(ctx.dataKey, packId, bytes);
        if (!indexed) notes.push(`pack ${packId} is in no index (unfinished backup; prune collects it)`);
        else if (
          JSON.stringify(
            indexed.blobs.map(({ id, kind, offset, length, start, size }) => ({
              id,
              kind,
              offset,
              length,
              start,
              size,
            })),
          ) !== JSON.stringify(header)
        ) {
          errors.push(`pack ${packId}: header and index disagree`);
        }
        for (const { blob, error } of packBlobs(ctx.dataKey, packId, bytes, header)) {
          if (error) errors.push(`blob ${blob.id} in pack ${packId}: ${error.message}`);
          else blobsChecked++;
        }
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  }

  const roots = kept.flatMap(({ record }) =>
    Object.values(record.types).flatMap((t) => (t.status === 'captured' ? [t.manifest] : [])),
  );
  try {
    const { missing } = await reachableFrom(ctx, roots);
    for (const id of missing) errors.push(`blob ${id} is referenced by a kept snapshot but stored nowhere`);
  } catch (err) {
    errors.push(`reading manifests failed: ${(err as Error).message}`);
  }

  return {
    ok: errors.length === 0,
    errors,
    notes,
    packsChecked: readData ? stored.size : 0,
    blobsChecked,
    snapshotsChecked: kept.length,
    chain,
  };
}
