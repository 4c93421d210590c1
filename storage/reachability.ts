import { readBlobs } from './pack-reader';
import type { RepositoryContext } from './context';
import { readManifestRoot, type ManifestEntry, type ManifestRoot } from './manifest';

export interface Reachable {
  /** Every blob id reachable from the roots: manifest roots and chunks, objects, relationship roots and chunks. */
  live: Set<string>;
  /** Reachable ids that no index knows: a broken reference. */
  missing: string[];
}

interface Node {
  root: ManifestRoot;
  children: string[];
}

/**
 * Marks what the given manifests need. Diff chains are replayed once from their full manifest, forwards, and at
 * each wanted manifest only the entries in effect there are marked: an object version that a later diff of the
 * chain replaced, and that no kept snapshot shows, is garbage even though an old chunk still names it.
 * Relationship roots are fetched in batches with coalesced ranged reads (there is one per group and relation).
 */
export async function reachableFrom(
  ctx: RepositoryContext,
  manifestRoots: Iterable<string>,
  {
    extraEntries = [],
    signal,
  }: {
    /** Entries outside any manifest (of unfinished writers' checkpoints) whose blobs are live too. */
    extraEntries?: Iterable<ManifestEntry>;
    /**
     * Checked before each read: a prune's mark reads every manifest and chunk of the kept snapshots, which can take
     * long; an activity that was cancelled (its worker shutting down, its heartbeat timed out) must stop here, or
     * it outlives the worker's shutdown grace period and fails the worker (GracefulShutdownPeriodExpiredError).
     */
    signal?: AbortSignal;
  } = {},
): Promise<Reachable> {
  const live = new Set<string>();
  const missing: string[] = [];
  const note = (id: string): boolean => {
    if (live.has(id)) return false;
    live.add(id);
    if (!ctx.index.has(id)) {
      missing.push(id);
      return false;
    }
    return true;
  };

  const wanted = new Set(manifestRoots);
  const nodes = new Map<string, Node>();
  for (const start of wanted) {
    let id: string | null = start;
    while (id && note(id)) {
      signal?.throwIfAborted();
      const root = await readManifestRoot(ctx.blobs, id);
      nodes.set(id, { root, children: [] });
      for (const chunkId of root.chunks) note(chunkId);
      id = root.base;
    }
  }
  for (const [id, node] of nodes) {
    if (node.root.base) nodes.get(node.root.base)?.children.push(id);
  }

  const relationshipRoots = new Set<string>();
  for (const entry of extraEntries) {
    note(entry.contentHash);
    for (const rel of Object.values(entry.rels ?? {})) relationshipRoots.add(rel);
  }
  const walk = async (id: string, entries: Map<string, ManifestEntry>): Promise<void> => {
    const node = nodes.get(id);
    if (!node) return;
    for (const removed of node.root.removed) entries.delete(removed);
    for (const entry of node.root.entries ?? []) entries.set(entry.id, entry);
    for (const chunkId of node.root.chunks) {
      if (!ctx.index.has(chunkId)) continue;
      signal?.throwIfAborted();
      for (const entry of (await ctx.blobs.readJson<{ entries: ManifestEntry[] }>(chunkId)).entries) {
        entries.set(entry.id, entry);
      }
    }
    if (wanted.has(id)) {
      for (const entry of entries.values()) {
        note(entry.contentHash);
        for (const rel of Object.values(entry.rels ?? {})) relationshipRoots.add(rel);
      }
    }
    const last = node.children.length - 1;
    for (let i = 0; i < last; i++) await walk(node.children[i], new Map(entries));
    if (last >= 0) await walk(node.children[last], entries);
  };
  // Chains start at full manifests; a chain whose base is missing (already reported) is replayed from where it can be.
  for (const [id, node] of nodes) {
    if (node.root.base === null || !nodes.has(node.root.base)) await walk(id, new Map());
  }

  const toRead = [...relationshipRoots].filter((id) => note(id));
  const locations = toRead.map((id) => ctx.index.get(id)).filter((l) => l !== undefined);
  for await (const { plaintext } of readBlobs(ctx.store, ctx.dataKey, locations)) {
    signal?.throwIfAborted();
    const root = JSON.parse(plaintext.toString('utf8')) as { chunks?: string[] };
    for (const chunkId of root.chunks ?? []) note(chunkId);
  }
  return { live, missing };
}
