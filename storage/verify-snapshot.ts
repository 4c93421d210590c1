import type { Repository } from './repository';

/** One blob that failed verification, and what in the snapshot needs it. */
export interface BadBlobReport {
  blobId: string;
  packId?: string;
  /** `type/objectId` for object versions, `type/objectId/relationship` for relationship lists. */
  usedBy: string[];
  error: string;
}

export interface SnapshotVerification {
  snapshotId: string;
  blobsChecked: number;
  badBlobs: BadBlobReport[];
  /** Manifests that could not be read (their types' objects could not be listed, so were not checked). */
  errors: string[];
}

/**
 * Re-reads every blob one snapshot needs (manifests, object versions, relationship lists and their chunks), each
 * verified against its id, and reports every one that fails with the objects that use it; nothing stops at the first
 * failure. Reads are coalesced per pack, so a 100,000-object snapshot costs a few requests per pack, not per object.
 */
export async function verifySnapshot(
  repo: Repository,
  snapshotId: string,
  onProgress: (blobsChecked: number) => void = () => {},
): Promise<SnapshotVerification> {
  const record = await repo.getSnapshot(snapshotId);
  const errors: string[] = [];
  const badBlobs: BadBlobReport[] = [];
  const users = new Map<string, string[]>();
  const use = (blobId: string, by: string) => {
    const list = users.get(blobId);
    if (list) list.push(by);
    else users.set(blobId, [by]);
  };
  let blobsChecked = 0;

  const relationshipRoots = new Set<string>();
  for (const [type, coverage] of Object.entries(record.types)) {
    if (coverage.status !== 'captured') continue;
    try {
      // Reads (and so verifies) the manifest's root and chunks along its diff chain.
      for (const entry of await repo.listEntries(snapshotId, type)) {
        use(entry.contentHash, `${type}/${entry.id}`);
        for (const [rel, root] of Object.entries(entry.rels ?? {})) {
          use(root, `${type}/${entry.id}/${rel}`);
          relationshipRoots.add(root);
        }
      }
    } catch (err) {
      errors.push(`${type}: manifest ${coverage.manifest} cannot be read: ${(err as Error).message}`);
    }
  }

  const check = async function* (ids: Iterable<string>) {
    for await (const read of repo.readBlobsReporting(ids)) {
      blobsChecked++;
      if (blobsChecked % 1000 === 0) onProgress(blobsChecked);
      if (read.error) {
        badBlobs.push({
          blobId: read.id,
          packId: read.location?.packId,
          usedBy: users.get(read.id) ?? [],
          error: read.error.message,
        });
      } else yield read;
    }
  };

  const objectIds = [...users.keys()].filter((id) => !relationshipRoots.has(id));
  for await (const _ of check(objectIds));
  const chunks: string[] = [];
  for await (const read of check(relationshipRoots)) {
    const root = JSON.parse(read.plaintext!.toString('utf8')) as { chunks?: string[] };
    for (const chunk of root.chunks ?? []) {
      for (const by of users.get(read.id) ?? []) use(chunk, by);
      chunks.push(chunk);
    }
  }
  for await (const _ of check(chunks));
  onProgress(blobsChecked);
  return { snapshotId, blobsChecked, badBlobs, errors };
}
