import { activityInfo, log } from '@temporalio/activity';
import {
  auditTrackedRelationships,
  classifyReadError,
  deltaStartUrl,
  firstPageUrl,
  getObjectType,
  type ObjectTypeSpec,
  type SkipReason,
} from '../../catalog';
import { CheckpointMissingError } from '../../storage/checkpoints';
import type { SyncState } from '../../storage/sync-state';
import type { TypeWriter } from '../../storage/type-writer';
import type { BackupTarget } from '../../tenants/types';
import { finalStorageFailure, type Repositories } from './repositories';
import type { GraphReader, GraphRunStats } from './graph-reader';
import type { PageDigester } from './page-digester';
import { readPagesInto, type CaptureCheckpoint, type ListingChain } from './page-pipeline';
import {
  countUrl,
  listingComplete,
  partitionUrl,
  partitionWorthIt,
  planPartitions,
  type PartitioningMode,
} from './partitions';
import { firstPageOf, withFirstPage, type FirstPage } from './first-page';
import { storedForm } from '../../storage/stored-form';
import type { RelationshipCoverage, RelationshipFallback } from '../../storage/snapshot';
import { readAuditChanges, rereadRelationships, type AuditLogSettings } from './audit-changes';

export interface CaptureTypeInput {
  job: BackupTarget;
  type: string;
}

/** What the workflow learns of one type: counts and storage ids, never directory objects. */
export type TypeCapture =
  | {
      type: string;
      status: 'captured';
      readMode: 'full' | 'delta';
      count: number;
      softDeleted: number;
      /** Objects (and removals) read from Graph in this run: everything on a full read, changes on a delta. */
      objectsRead: number;
      /** Time spent storing (compressing, encrypting, writing packs, checkpoints, the manifest). */
      storageMs: number;
      manifest: string;
      syncState?: string;
      blobsAdded: number;
      bytesWritten: number;
      graph: GraphRunStats;
      /** How the relationships were made current (types with relationships only). */
      relationships?: RelationshipCoverage;
      /** Listings a large type was read in parallel in (absent when it was read in one). */
      partitions?: number;
      /**
       * Objects Graph counted that the partitions did not hold: the partitioning missed them, so the type was read
       * again in one listing (absent when the check passed).
       */
      partitionMisses?: number;
    }
  | { type: string; status: 'skipped'; reason: SkipReason; detail: string; graph: GraphRunStats };

export interface CaptureDependencies {
  repositories: Repositories;
  /** A throttle-aware reader for the Backup app in one tenant. */
  graphFor(directory: string): GraphReader;
  fullReadEvery: number;
  /** Seconds between durable checkpoints. */
  checkpointEverySeconds?: number;
  /** Parses and digests pages of types without relationships off the main thread; without it, they are parsed here. */
  digester?: PageDigester;
  /** The directory audit log's retention and latency (defaults: 7 days, 15 minutes). */
  auditLog?: AuditLogSettings;
  /** When long lists are read in partitions (BACKUP_PARTITIONED_LISTING; default `auto`: when measured latency-bound). */
  partitioning?: PartitioningMode;
}

export const DEFAULT_AUDIT_LOG: AuditLogSettings = { retentionMs: 7 * 86_400_000, latencyMarginMs: 15 * 60_000 };

/**
 * Captures one object type of one tenant into the snapshot being written: reads Graph (delta where it can, in full
 * where it must), stores every object version once, and returns counts and the type's manifest id. Idempotent and
 * resumable: every few seconds the writer is checkpointed to storage and the checkpoint heartbeated with the next
 * page link, so a retried attempt (a crashed worker) continues there instead of starting over.
 */
export function createCaptureActivities(deps: CaptureDependencies) {
  return {
    async captureType(input: CaptureTypeInput): Promise<TypeCapture> {
      const spec = getObjectType(input.type);
      const graph = deps.graphFor(input.job.directory);
      // The base of this backup: records of this tenant only (a foreign one fails the capture for good).
      const { repo, previous } = await deps.repositories
        .forTenant(input.job)
        .then(async (repo) => ({ repo, previous: await repo.latestCoverage(spec.key) }))
        .catch((err: unknown) => {
          throw finalStorageFailure(err);
        });
      const resume = activityInfo().heartbeatDetails as CaptureCheckpoint | undefined;

      let sync: SyncState | undefined;
      if (previous?.syncState && spec.delta) sync = await repo.readSyncState(previous.syncState);
      const deltaAllowed =
        !!sync && sync.directory === input.job.directory && sync.deltaRounds + 1 < deps.fullReadEvery;
      // The next backup reads the audit log from here: the first attempt's scheduling, before anything was read.
      const scheduled = activityInfo().scheduledTimestampMs;
      let relationshipsAsOf = new Date(Number.isFinite(scheduled) ? Math.min(scheduled, Date.now()) : Date.now());
      const auditRelationships = auditTrackedRelationships(spec);
      let fallback: { fallback: RelationshipFallback; detail: string } | undefined;

      const coverage = (readMode: 'full' | 'delta', reread: number): RelationshipCoverage | undefined => {
        if (spec.relationships.length === 0) return undefined;
        const audited = new Set(auditRelationships.map((r) => r.key));
        const methods: RelationshipCoverage['methods'] = {};
        for (const r of spec.relationships)
          methods[r.key] = readMode === 'full' ? 'full-read' : audited.has(r.key) ? 'audit-log' : 'delta';
        if (readMode === 'delta') return { methods, reread };
        return fallback ? { methods, ...fallback } : { methods };
      };

      const run = async (
        readMode: 'full' | 'delta',
        checkpoint?: CaptureCheckpoint,
        auditChanges?: Map<string, Set<string>>,
      ): Promise<TypeCapture> => {
        // A resumed attempt keeps the base it started with.
        const base = checkpoint ? checkpoint.base : previous?.manifest;
        const writer = await repo.openTypeWriter(spec.key, {
          mode: readMode === 'delta' ? 'changes' : 'full',
          base,
          resumeFrom: checkpoint?.writerCheckpoint,
        });
        try {
          // A full read of a delta type first asks for a delta link without data ($deltatoken=latest), then lists
          // the type with the largest pages Graph allows: pages of a delta round are smaller and must be read one
          // after another. What changes during the listing comes back in the next round, which is harmless.
          // https://learn.microsoft.com/graph/delta-query-overview ("$deltaToken=latest")
          let fullReadDeltaLink = checkpoint?.deltaLink;
          if (readMode === 'full' && spec.delta && !fullReadDeltaLink) {
            for await (const page of graph.pages(
              `${deltaStartUrl(spec.key, { baseUrl: graph.rootUrl })}&$deltatoken=latest`,
            )) {
              fullReadDeltaLink = page.deltaLink ?? fullReadDeltaLink;
            }
          }
          const plainUrl = firstPageUrl(spec.key, { baseUrl: graph.rootUrl });
          const startUrl = checkpoint?.nextLink ?? (readMode === 'delta' ? sync!.deltaLink : plainUrl);
          // A resumed attempt reads the way the first one decided (its checkpoint names partitions, or a next link).
          const decided =
            checkpoint?.partitions !== undefined
              ? { listing: { partitions: checkpoint.partitions, countBefore: checkpoint.countBefore ?? 0 } }
              : readMode === 'full' && !checkpoint
                ? await partitionedListing(spec, graph, plainUrl, deps.partitioning ?? 'auto')
                : {};
          const listing = decided.listing;
          const read = (options: {
            startUrl: string;
            partitions?: ListingChain[];
            resume?: CaptureCheckpoint;
            reader?: GraphReader;
          }) =>
            readPagesInto({
              spec,
              writer,
              readMode,
              base,
              fullReadDeltaLink,
              checkpointEverySeconds: deps.checkpointEverySeconds,
              digester: deps.digester,
              countBefore: listing?.countBefore,
              partitioning: deps.partitioning,
              ...options,
              graph: options.reader ?? graph,
            });
          let outcome = await read({
            startUrl,
            partitions: listing?.partitions,
            resume: checkpoint,
            // The first page read to time the listing is stored, not asked for again.
            reader: decided.firstPage ? withFirstPage(graph, decided.firstPage) : undefined,
          });
          let partitionMisses = listing?.missed;
          if (listing?.partitions) {
            const countAfter = await graph.count(countUrl(spec, graph.rootUrl));
            if (!listingComplete(outcome.objectsRead, listing.countBefore, countAfter)) {
              partitionMisses = Math.min(listing.countBefore, countAfter) - outcome.objectsRead;
            }
          }
          if (partitionMisses !== undefined && listing?.partitions) {
            // Objects lie outside every partition: read the type in one listing into the same writer (what the
            // partitions stored is stored again, unchanged).
            log.warn('partitioned listing missed objects; reading the type in one listing', {
              type: spec.key,
              missed: partitionMisses,
            });
            const again = await read({ startUrl: plainUrl });
            outcome = { ...again, storageMs: again.storageMs + outcome.storageMs };
          }
          if (readMode === 'full' && spec.deletedItemsCast) await readRecycleBin(spec, graph, writer);
          // Relationships delta does not report, for the objects the audit log named (and delta did not).
          const reread =
            readMode === 'delta' && auditChanges
              ? await rereadRelationships(spec, graph, writer, auditChanges, outcome.relationshipsRead)
              : 0;
          const deltaLink = readMode === 'delta' ? outcome.deltaLink : fullReadDeltaLink;
          if (deltaLink) {
            writer.setSyncState({
              directory: input.job.directory,
              deltaLink,
              deltaRounds: readMode === 'delta' ? (sync?.deltaRounds ?? 0) + 1 : 0,
              relationshipsAsOf: relationshipsAsOf.toISOString(),
            } satisfies SyncState);
          }
          const finishing = Date.now();
          const result = await writer.finish();
          const storageMs = outcome.storageMs + (Date.now() - finishing);
          return {
            type: spec.key,
            status: 'captured',
            readMode,
            count: result.count,
            softDeleted: result.softDeleted,
            objectsRead: outcome.objectsRead,
            storageMs,
            manifest: result.manifest,
            ...(result.syncState ? { syncState: result.syncState } : {}),
            blobsAdded: result.blobsAdded,
            bytesWritten: result.bytesWritten,
            graph: graph.stats(),
            ...(spec.relationships.length > 0 ? { relationships: coverage(readMode, reread) } : {}),
            // 0 when the partitioning failed its check and the type was read in one listing.
            ...(listing ? { partitions: partitionMisses === undefined ? (listing.partitions?.length ?? 0) : 0 } : {}),
            ...(partitionMisses !== undefined ? { partitionMisses } : {}),
          };
        } catch (err) {
          await writer.abort();
          throw err;
        }
      };

      try {
        let fresh: 'full' | 'delta' = deltaAllowed ? 'delta' : 'full';
        let mode = resume?.readMode ?? fresh;
        let auditChanges: Map<string, Set<string>> | undefined;
        if (mode === 'delta' && auditRelationships.length > 0) {
          const changes = await readAuditChanges(
            spec,
            graph,
            sync?.relationshipsAsOf,
            deps.auditLog ?? DEFAULT_AUDIT_LOG,
            Date.now(),
            activityInfo().workflowExecution?.runId,
          );
          if (changes.ok) {
            auditChanges = changes.byRelationship;
            // A read another type of this backup began earlier: the next backup reads from its start.
            if (changes.readAt < relationshipsAsOf.getTime()) relationshipsAsOf = new Date(changes.readAt);
          } else {
            // Without the audit log the relationships cannot be brought up to date from delta: read the type in
            // full (never a silently stale snapshot), and say why in the coverage report.
            fallback = { fallback: changes.fallback, detail: changes.detail };
            fresh = 'full';
            mode = 'full';
          }
        }
        const resumeFrom = resume && resume.readMode === mode ? resume : undefined;
        try {
          return await run(mode, resumeFrom, auditChanges);
        } catch (err) {
          // The attempt before finished the type (which deletes its checkpoints) but was not recorded as done, or the
          // checkpoint outlived prune's grace period: nothing to resume, so the type is read again (what is already
          // stored is deduplicated).
          if (resumeFrom && err instanceof CheckpointMissingError) return await run(fresh, undefined, auditChanges);
          // Graph answered 410 for the delta link or a saved page link (expired, or reset): read the type in full,
          // from the start, by itself. https://learn.microsoft.com/graph/delta-query-overview ("Synchronization reset")
          if ((mode === 'delta' || resumeFrom) && graph.isDeltaReset(err)) return await run('full');
          throw err;
        }
      } catch (err) {
        const status = graph.statusOf(err);
        if (status) {
          const reason = classifyReadError(spec.key, status);
          if (reason) {
            return {
              type: spec.key,
              status: 'skipped',
              reason,
              detail: `${status.status} ${status.code ?? ''}: ${status.message ?? ''}`.trim(),
              graph: graph.stats(),
            };
          }
        }
        throw graph.toActivityFailure(err);
      }
    },
  };
}

/** How a fresh full read lists its type: in partitions (`listing`), or in one listing whose first page is read. */
interface ListingChoice {
  listing?: { partitions?: ListingChain[]; countBefore: number; missed?: number };
  /** The first page of the one listing, read to time it. */
  firstPage?: FirstPage;
}

/**
 * The listings of a full read of a large type (see partitions.ts), or one listing. In `auto` mode the first page is
 * read and timed, and Graph's count gives the pages still to come: the type is partitioned only when reading them one
 * after another would be the backup's latency bound (partitionWorthIt), else the listing goes on from that page. A
 * plan whose prefixes Graph counts fewer objects under than in the whole type misses objects by construction: it is
 * not used (`missed`).
 */
async function partitionedListing(
  spec: ObjectTypeSpec,
  graph: GraphReader,
  plainUrl: string,
  mode: PartitioningMode,
): Promise<ListingChoice> {
  if (!spec.partitionBy || mode === 'never') return {};
  let total: number | undefined;
  if (mode === 'auto') {
    const began = performance.now();
    const graphMsBefore = graph.stats().graphMs;
    const firstPage = firstPageOf(plainUrl, await graph.pageBytes(plainUrl));
    // Graph's own time for the page (the only request of this capture in flight), not the wait at the pacer behind
    // other types' batches: a busy budget says the backup is throttle-bound, which is no reason to partition.
    const wire = (graph.stats().graphMs - graphMsBefore) / 1000;
    const elapsed = (performance.now() - began) / 1000;
    const pageSeconds = wire > 0 ? Math.min(wire, elapsed) : elapsed;
    // One page holds the whole type: nothing to decide, and no count spent.
    if (!firstPage.nextLink) return { firstPage };
    total = await graph.count(countUrl(spec, graph.rootUrl));
    const decision = partitionWorthIt({
      objects: total,
      pageSize: firstPage.objects,
      pageSeconds,
      budgetRuPerSecond: graph.budgetRuPerSecond(),
    });
    log.info(decision.partition ? 'type listed in partitions' : 'type listed page by page', {
      type: spec.key,
      objects: total,
      pageSize: firstPage.objects,
      pageSeconds,
      ...decision,
    });
    if (!decision.partition) return { firstPage };
  }
  const plan = await planPartitions(spec.partitionBy, (prefix) => graph.count(countUrl(spec, graph.rootUrl, prefix)), {
    total,
  });
  if (!plan) return {};
  if (plan.covered < plan.total) {
    log.warn('partitions do not cover the type; reading it in one listing', {
      type: spec.key,
      total: plan.total,
      covered: plan.covered,
    });
    return { listing: { countBefore: plan.total, missed: plan.total - plan.covered } };
  }
  return {
    listing: {
      partitions: plan.prefixes.map((prefix) => ({ key: prefix, next: partitionUrl(spec, prefix, graph.rootUrl) })),
      countBefore: plan.total,
    },
  };
}

/**
 * A list read does not see the recycle bin; a full snapshot must still hold what can be restored from it. Objects
 * the previous snapshot had keep their last content (and relationships), marked soft-deleted; others are stored as
 * the recycle bin returns them. https://learn.microsoft.com/graph/api/directory-deleteditems-list
 */
async function readRecycleBin(spec: ObjectTypeSpec, graph: GraphReader, writer: TypeWriter): Promise<void> {
  const select = spec.select ? `?$select=${spec.select.join(',')}&$top=999` : '?$top=999';
  for await (const page of graph.pages(`${graph.rootUrl}/directory/deletedItems/${spec.deletedItemsCast}${select}`)) {
    for (const item of page.value) {
      const id = item[spec.idProperty] as string;
      if (writer.hasBaseEntry(id)) {
        await writer.markSoftDeleted(id);
      } else {
        const name = spec.displayNameProperty ? (item[spec.displayNameProperty] as string | undefined) : undefined;
        await writer.addObject(id, name ?? null, storedForm(item), { state: 'softDeleted' });
      }
    }
  }
}
