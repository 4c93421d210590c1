import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import { exportObjectName } from '../../exports/object-names';
import { objectEntryName, relationshipEntryName } from '../../exports/entry-names';
import { inGraphShape } from '../../exports/odata-types';
import type { ExportRequest, ExportResult } from '../../exports/types';
import { IntegrityError } from '../../storage/crypto';
import type { ManifestEntry } from '../../storage/manifest';
import type { Repository } from '../../storage/repository';
import type { SnapshotRecord } from '../../storage/snapshot';
import { exportProgressSignal } from '../../workflows/export-messages';
import type { Repositories } from '../backup/repositories';
import { ExportZip } from './export-zip';
import { exportReadme } from './readme-text';
import { openTenantRepository } from './tenant-repository';
import { withTemporalDeadline } from '../temporal-calls';

/** Relationship list roots are fetched for this many objects at once (coalesced reads, bounded memory). */
const RELATIONSHIP_BATCH = 200;
/**
 * The zip is uploaded in resumable chunks of this size: the only buffer the upload holds (the client keeps a chunk
 * until GCS has it, so up to twice this). A multiple of 256 KiB, as GCS requires; 2 MiB is 50 requests for a 100 MB zip.
 */
const UPLOAD_CHUNK_BYTES = 2 * 1024 * 1024;
const PROGRESS_EVERY_MS = 2000;
/**
 * Pack reads of an export span at most 1 MiB (a pack is up to 4 MiB): a range is held while all its objects are
 * zipped and uploaded, long enough for V8 to move it to the old generation, where it stays resident until a full
 * collection; a quarter of the span is a quarter of that, for four requests a pack instead of one.
 */
const EXPORT_READ_LIMITS = { maxSpan: 1024 * 1024 };

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

/** Per exported type: what `manifest.json` counts. */
interface TypeCounts {
  objects: number;
  inRecycleBin: number;
  relationshipFiles: number;
}

/**
 * What one export holds, decided before a byte is written (the counts go into the object's metadata). Only counts:
 * each type's entries are listed again when it is written and released after it, so an export holds one type's
 * entries at a time, not the tenant's (a whole-tenant export of 100,000 users has ~130,000).
 */
interface ExportPlan {
  record: SnapshotRecord;
  types: { type: string; counts: TypeCounts }[];
  objects: number;
  files: number;
}

/** Non-retryable: the request cannot be served from this repository (checked by the API too; retention may win). */
function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ExportRefused', message, nonRetryable: true });
}

/** The entries of one exported type (the one object of an object-level export), sorted by id. */
async function exportedEntries(repo: Repository, req: ExportRequest, type: string): Promise<ManifestEntry[]> {
  let entries: ManifestEntry[];
  try {
    // Without search keys: an export never searches, and 100,000 users' keys are tens of MB while a type is listed.
    entries = await repo.listEntries(req.snapshotId, type, { searchKeys: false });
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw ApplicationFailure.create({
      type: 'IntegrityError',
      message: `${type}: the snapshot's list of objects cannot be read: ${err.message}`,
      nonRetryable: true,
    });
  }
  if (req.level === 'object') {
    entries = entries.filter((e) => e.id === req.objectId);
    if (entries.length === 0) throw refused(`object ${type}/${req.objectId} is not in snapshot ${req.snapshotId}`);
  }
  return entries;
}

async function planExport(repo: Repository, req: ExportRequest): Promise<ExportPlan> {
  if (!(await repo.listSnapshots()).some((s) => s.id === req.snapshotId)) {
    throw refused(`snapshot ${req.snapshotId} does not exist or was forgotten by retention`);
  }
  const record = await repo.getSnapshot(req.snapshotId);
  const captured = Object.entries(record.types)
    .filter(([, c]) => c.status === 'captured')
    .map(([type]) => type);
  const wanted = req.level === 'tenant' ? captured : [req.type!];
  const types: ExportPlan['types'] = [];
  let objects = 0;
  let files = 3; // README.txt, manifest.json, SHA256SUMS
  for (const type of wanted) {
    if (!captured.includes(type)) throw refused(`type ${type} was not captured in snapshot ${req.snapshotId}`);
    const counts: TypeCounts = { objects: 0, inRecycleBin: 0, relationshipFiles: 0 };
    for (const e of await exportedEntries(repo, req, type)) {
      counts.objects++;
      if (e.state === 'softDeleted') counts.inRecycleBin++;
      counts.relationshipFiles += Object.keys(e.rels ?? {}).length;
    }
    types.push({ type, counts });
    objects += counts.objects;
    files += counts.objects + counts.relationshipFiles;
  }
  return { record, types, objects, files };
}

function exportManifest(req: ExportRequest, plan: ExportPlan) {
  const { record } = plan;
  const counts = Object.fromEntries(plan.types.map(({ type, counts }) => [type, counts]));
  const coverage = Object.fromEntries(
    Object.entries(record.types).map(([type, c]) => [
      type,
      c.status === 'captured'
        ? { status: c.status, count: c.count, inRecycleBin: c.softDeleted, readMode: c.readMode }
        : { status: c.status, reason: c.reason, ...(c.detail ? { detail: c.detail } : {}) },
    ]),
  );
  const skipped = Object.entries(record.types).filter(([, c]) => c.status === 'skipped');
  return {
    format: 'entra-backup-export',
    formatVersion: 1,
    tenant: { id: req.tenantId, microsoftTenantId: req.directory },
    snapshot: {
      id: req.snapshotId,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      complete: skipped.length === 0,
    },
    level: req.level,
    filter: { ...(req.type ? { type: req.type } : {}), ...(req.objectId ? { objectId: req.objectId } : {}) },
    ...(skipped.length > 0
      ? {
          note: `The snapshot is incomplete: ${skipped.map(([t]) => t).join(', ')} were not captured (see coverage); only captured types are exported.`,
        }
      : {}),
    exportedTypes: plan.types.map((t) => t.type),
    counts,
    totals: { objects: plan.objects, files: plan.files },
    coverage,
    expiresAt: req.expiresAt,
  };
}

export interface ExportActivityDeps {
  repositories: Repositories;
  storage: Storage;
  temporal: Client;
}

export function createBuildExportActivity(deps: ExportActivityDeps) {
  return {
    /**
     * Builds the export zip and streams it into the tenant's bucket as a resumable upload, which GCS completes only
     * when its last chunk arrives, and only if no object of that name exists (`ifGenerationMatch: 0`). A killed or
     * failed attempt therefore leaves no object; the retry builds the zip again from the beginning; an attempt that
     * finds the zip already there (its predecessor finished the upload but not the activity) returns it. So the
     * URL shows exactly one complete zip, or nothing.
     */
    async buildExport(req: ExportRequest): Promise<ExportResult> {
      const ctx = Context.current();
      // Also beat while planning and while the last chunk uploads, where no object is written for a while; a storage
      // request that hangs still fails on its own deadline (STORAGE_REQUEST_TIMEOUT_SECONDS) and ends the attempt.
      const last = { objects: 0, bytes: 0 };
      ctx.heartbeat(last);
      const beating = setInterval(() => ctx.heartbeat(last), 1000);
      try {
        return await buildExportZip(deps, req, ctx, last);
      } finally {
        clearInterval(beating);
      }
    },
  };
}

async function buildExportZip(
  deps: ExportActivityDeps,
  req: ExportRequest,
  ctx: Context,
  last: { objects: number; bytes: number },
): Promise<ExportResult> {
  const bucket = deps.storage.bucket(req.storage.bucket);
  const objectName = exportObjectName(req);
  const file = bucket.file(objectName);
  const [exists] = await file.exists();
  if (exists) {
    const [metadata] = await file.getMetadata();
    const custom = (metadata.metadata ?? {}) as Record<string, string>;
    return {
      bucket: req.storage.bucket,
      objectName,
      expiresAt: req.expiresAt,
      objects: Number(custom.objects),
      files: Number(custom.files),
      bytes: Number(metadata.size),
    };
  }

  const repo = await openTenantRepository(deps.repositories, req);
  const plan = await planExport(repo, req);
  const out = file.createWriteStream({
    resumable: true,
    chunkSize: UPLOAD_CHUNK_BYTES,
    contentType: 'application/zip',
    preconditionOpts: { ifGenerationMatch: 0 },
    metadata: {
      contentDisposition: `attachment; filename="entra-backup-${req.snapshotId.slice(0, 12)}-${req.level}.zip"`,
      metadata: { objects: String(plan.objects), files: String(plan.files), snapshotId: req.snapshotId },
    },
  });
  const zip = new ExportZip(out, new Date(plan.record.finishedAt));
  const onCancel = () => zip.abort(new Error('export cancelled (heartbeat timeout or shutdown)'));
  ctx.cancellationSignal.addEventListener('abort', onCancel);

  const workflow = deps.temporal.workflow.getHandle(ctx.info.workflowExecution!.workflowId);
  let objects = 0;
  let lastProgress = 0;
  const progress = async (force = false) => {
    last.objects = objects;
    last.bytes = zip.bytes;
    ctx.heartbeat(last);
    if (!force && Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = Date.now();
    // Progress is for the System Status view only: a signal that fails must not fail the export.
    await withTemporalDeadline(deps.temporal, () =>
      workflow.signal(exportProgressSignal, { objects, bytes: zip.bytes }),
    ).catch(() => undefined);
  };

  try {
    await zip.add('README.txt', Buffer.from(exportReadme(req, plan.record.finishedAt), 'utf8'));
    await progress(true);
    for (const { type } of plan.types) {
      // One type's entries at a time: listed here, released when the type is written.
      const byHash = new Map<string, ManifestEntry[]>();
      // Listed without search keys (exportedEntries): what is held is only what the files need.
      for (const e of await exportedEntries(repo, req, type)) {
        const owners = byHash.get(e.contentHash);
        if (owners) owners.push(e);
        else byHash.set(e.contentHash, [e]);
      }
      let withRelationships: ManifestEntry[] = [];
      for await (const read of repo.readBlobsReporting(byHash.keys(), EXPORT_READ_LIMITS)) {
        const owners = byHash.get(read.id) ?? [];
        byHash.delete(read.id); // the read has listed its ids already: what is written need not stay
        if (read.error) {
          // Never export what cannot be verified: the whole export fails, naming what is damaged.
          throw ApplicationFailure.create({
            type: 'IntegrityError',
            message: `${type} object ${owners.map((e) => e.id).join(', ')} cannot be exported: ${read.error.message}`,
            nonRetryable: true,
          });
        }
        const object = JSON.parse(read.plaintext!.toString('utf8')) as Record<string, unknown>;
        const body = json(inGraphShape(type, object));
        for (const e of owners) {
          await zip.add(objectEntryName(type, e.id, e.displayName, e.state === 'softDeleted'), body);
          objects++;
          if (e.rels && Object.keys(e.rels).length > 0) withRelationships.push(e);
        }
        if (withRelationships.length >= RELATIONSHIP_BATCH) {
          await addRelationships(repo, zip, type, withRelationships);
          withRelationships = [];
        }
        await progress();
      }
      await addRelationships(repo, zip, type, withRelationships);
      await progress();
    }
    await zip.add('manifest.json', json(exportManifest(req, plan)));
    await zip.finish();
  } catch (err) {
    zip.abort(err as Error);
    throw err;
  } finally {
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
  }
  await progress(true);
  return {
    bucket: req.storage.bucket,
    objectName,
    expiresAt: req.expiresAt,
    objects: plan.objects,
    files: zip.files,
    bytes: zip.bytes,
  };
}

/**
 * Writes the relationship files of a batch of objects. The batch's list roots are read together (coalesced reads);
 * a list stored in chunks (a large group's members) is read when its file is written and released after it, so the
 * export holds one large list at a time, not a batch's.
 */
async function addRelationships(repo: Repository, zip: ExportZip, type: string, entries: ManifestEntry[]) {
  if (entries.length === 0) return;
  const users = new Map<string, string[]>();
  for (const e of entries) {
    for (const root of Object.values(e.rels ?? {})) users.set(root, [...(users.get(root) ?? []), `${type}/${e.id}`]);
  }
  const damaged = (ids: string[], error: Error) =>
    ApplicationFailure.create({
      type: 'IntegrityError',
      message: `relationship of ${ids.join(', ')} cannot be exported: ${error.message}`,
      nonRetryable: true,
    });
  const roots = new Map<string, { items?: unknown[]; chunks?: string[] }>();
  for await (const read of repo.readBlobsReporting(users.keys(), EXPORT_READ_LIMITS)) {
    if (read.error) throw damaged(users.get(read.id) ?? [], read.error);
    roots.set(read.id, JSON.parse(read.plaintext!.toString('utf8')) as { items?: unknown[]; chunks?: string[] });
  }
  const itemsOf = async (rootId: string): Promise<unknown[]> => {
    const root = roots.get(rootId)!;
    if (root.items) return root.items;
    const chunkIds = root.chunks ?? [];
    const chunks = new Map<string, unknown[]>();
    for await (const read of repo.readBlobsReporting(chunkIds, EXPORT_READ_LIMITS)) {
      if (read.error) throw damaged(users.get(rootId) ?? [], read.error);
      chunks.set(read.id, (JSON.parse(read.plaintext!.toString('utf8')) as { items: unknown[] }).items);
    }
    return chunkIds.flatMap((c) => chunks.get(c) ?? []);
  };
  for (const e of entries) {
    for (const [rel, rootId] of Object.entries(e.rels ?? {})) {
      await zip.add(
        relationshipEntryName(type, e.id, e.displayName, e.state === 'softDeleted', rel),
        json({ value: await itemsOf(rootId) }),
      );
    }
  }
}
