import { Router, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Storage } from '@google-cloud/storage';
import { findObjectType, searchProperties } from '../../catalog';
import { diffSnapshots, diffSummary, diffText } from '../../diff';
import { BrowseNotFoundError, CorruptDataError, type SnapshotReader } from '../../storage/snapshot-reader';
import { requireReseller, resellerOf } from '../auth';
import { repositoryDiffSource } from '../browse/diff-source';
import { tenantSnapshotReader } from '../browse/tenant-repository';
import { badRequest, notFound, ProblemError } from '../problem';
import { ownedTenant } from '../owned-tenants';

export interface SnapshotRouteDeps {
  client: Client;
  storage: Storage;
  masterKey: string;
}

/** Related items listed per relationship of one object; a larger list says how many there are in `count`. */
const RELATED_ITEMS_SHOWN = 1000;

/**
 * Browse and compare a tenant's backups: snapshots, the types and objects of one snapshot, one object with its
 * relationships and history, and the diff between any two snapshots. Resellers only; another reseller's tenant is 404.
 *
 * Stored data that fails its integrity check answers 500 with `type` `urn:entra-backup:problem:integrity` naming the object (or manifest)
 * and the pack: the fault is the server's, retrying does not help, and no unverified byte is returned.
 */
export function snapshotRoutes(deps: SnapshotRouteDeps): Router {
  const router = Router();
  router.use('/tenants', requireReseller);

  const readerOf = async (req: Request, res: Response): Promise<SnapshotReader> => {
    const { record } = await ownedTenant(deps.client, resellerOf(res), String(req.params.tenantId));
    return tenantSnapshotReader(deps.storage, deps.masterKey, record);
  };

  router.get('/tenants/:tenantId/snapshots', async (req, res) => {
    const reader = await readerOf(req, res);
    const { offset, limit } = paging(req, 20);
    const { items, chain } = await browse(() => reader.snapshots());
    checkOffset(offset, items.length);
    res.json({
      total: items.length,
      offset,
      limit,
      chain: { ok: chain.ok, problems: chain.problems },
      snapshots: items.slice(offset, offset + limit),
    });
  });

  router.get('/tenants/:tenantId/snapshots/:snapshotId', async (req, res) => {
    const reader = await readerOf(req, res);
    const { items } = await browse(() => reader.snapshots());
    const found = items.find((s) => s.id === req.params.snapshotId);
    if (!found) throw notFound(`snapshot '${req.params.snapshotId}'`);
    res.json(found);
  });

  router.get('/tenants/:tenantId/snapshots/:snapshotId/types', async (req, res) => {
    const reader = await readerOf(req, res);
    const snapshot = await browse(() => reader.snapshot(req.params.snapshotId));
    const types = Object.entries(snapshot.record.types)
      .map(([type, c]) => ({
        type,
        label: findObjectType(type)?.label ?? type,
        status: c.status,
        count: c.count,
        ...(c.status === 'captured'
          ? {
              softDeleted: c.softDeleted,
              ...(c.readMode ? { readMode: c.readMode } : {}),
              ...(c.relationships ? { relationships: c.relationships } : {}),
            }
          : { reason: c.reason, detail: c.detail }),
      }))
      .sort((a, b) => a.type.localeCompare(b.type));
    res.json({ snapshotId: snapshot.id, startedAt: snapshot.record.startedAt, types });
  });

  router.get('/tenants/:tenantId/snapshots/:snapshotId/types/:type/objects', async (req, res) => {
    const reader = await readerOf(req, res);
    const { offset, limit } = paging(req, 50);
    const search = typeof req.query.search === 'string' ? req.query.search.toLowerCase() : undefined;
    const { type } = req.params;
    const result = await browse(async () => {
      const coverage = reader.captured(await reader.snapshot(req.params.snapshotId), type);
      let entries = await reader.sortedEntries(coverage.manifest);
      if (search) entries = await reader.search(type, entries, search, searchProperties(type));
      checkOffset(offset, entries.length);
      const page = entries.slice(offset, offset + limit);
      // Properties a search matches on (UPN, mail, appId) are shown too: reading them reads only this page's packs.
      const shown = searchProperties(type);
      const objects = shown.length > 0 ? await reader.readObjects(type, page) : undefined;
      return {
        total: entries.length,
        items: page.map((e) => ({
          id: e.id,
          displayName: e.displayName,
          state: e.state === 'softDeleted' ? 'in-recycle-bin' : 'present',
          ...(objects ? { properties: pick(objects.get(e.contentHash), shown) } : {}),
        })),
      };
    });
    res.json({
      snapshotId: req.params.snapshotId,
      type,
      total: result.total,
      offset,
      limit,
      ...(search !== undefined ? { search: req.query.search } : {}),
      objects: result.items,
    });
  });

  router.get('/tenants/:tenantId/snapshots/:snapshotId/types/:type/objects/:objectId', async (req, res) => {
    const reader = await readerOf(req, res);
    const { type, objectId, snapshotId } = req.params;
    const body = await browse(async () => {
      // One listing of the kept snapshots serves the lookup and the history.
      const kept = await reader.repo.listSnapshots();
      const snapshot = await reader.snapshot(snapshotId, kept);
      const coverage = reader.captured(snapshot, type);
      const entry = await reader.findEntry(coverage.manifest, objectId);
      if (!entry) throw new BrowseNotFoundError(`${type} object '${objectId}' in snapshot '${snapshotId}'`);
      const [object, history] = await Promise.all([
        reader.readObject(type, entry),
        reader.history(type, objectId, kept),
      ]);
      const relationships: Record<string, unknown> = {};
      const names = new Set([
        ...(findObjectType(type)?.relationships.map((r) => r.key) ?? []),
        ...Object.keys(entry.rels ?? {}),
      ]);
      for (const name of names) {
        const relId = entry.rels?.[name];
        const items = relId ? await reader.readRelationship(relId, `${name} of ${type} object ${objectId}`) : [];
        const shown = items.slice(0, RELATED_ITEMS_SHOWN);
        relationships[name] = {
          count: items.length,
          ...(items.length > shown.length ? { truncated: true } : {}),
          items: await reader.describe([snapshot], type, name, objectId, shown),
        };
      }
      return {
        snapshotId,
        type,
        id: entry.id,
        displayName: entry.displayName,
        state: entry.state === 'softDeleted' ? 'in-recycle-bin' : 'present',
        contentHash: entry.contentHash,
        object,
        relationships,
        history,
      };
    });
    res.json(body);
  });

  router.get('/tenants/:tenantId/diff', async (req, res) => {
    const reader = await readerOf(req, res);
    const q = req.query as { from: string; to: string; type?: string; objectId?: string; format?: 'json' | 'text' };
    if (q.type && !findObjectType(q.type)) throw notFound(`type '${q.type}'`);
    const [from, to] = await browse(() => Promise.all([reader.snapshot(q.from), reader.snapshot(q.to)]));
    const types = await browse(() =>
      diffSnapshots(repositoryDiffSource(reader, from, to), { type: q.type, objectId: q.objectId }),
    );
    const label = (s: typeof from) => ({ id: s.id, startedAt: s.record.startedAt });
    const text =
      q.format === 'text' ||
      (q.format === undefined && req.accepts(['application/json', 'text/plain']) === 'text/plain');
    if (text) {
      res.type('text/plain; charset=utf-8').send(diffText(label(from), label(to), types));
      return;
    }
    res.json({
      from: label(from),
      to: label(to),
      filter: { ...(q.type ? { type: q.type } : {}), ...(q.objectId ? { objectId: q.objectId } : {}) },
      summary: diffSummary(types),
      types,
    });
  });

  return router;
}

function paging(req: Request, defaultLimit: number): { offset: number; limit: number } {
  // The OpenAPI document bounds both (400 outside); here they only turn from strings into numbers.
  const offset = req.query.offset === undefined ? 0 : Number(req.query.offset);
  const limit = req.query.limit === undefined ? defaultLimit : Number(req.query.limit);
  return { offset, limit };
}

function checkOffset(offset: number, total: number): void {
  if (offset > 0 && offset >= total) {
    throw badRequest('query.offset', `is past the last item (there are ${total})`);
  }
}

function pick(object: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => object?.[k] !== undefined).map((k) => [k, object?.[k]]));
}

/** Storage's answers as problem+json: not found → 404, a failed integrity check → 500 naming object and pack. */
async function browse<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BrowseNotFoundError) throw notFound(err.what);
    if (err instanceof CorruptDataError) {
      console.error(`integrity: ${err.message}`);
      throw new ProblemError({
        type: 'urn:entra-backup:problem:integrity',
        title: 'Backup data failed its integrity check',
        status: 500,
        detail: err.message,
        object: err.what,
        blob: err.blobId,
        pack: err.packId ?? null,
      });
    }
    throw err;
  }
}
