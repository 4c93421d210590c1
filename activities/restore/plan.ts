import { getObjectType } from '../../catalog';
import { canonicalJson, sha256Hex } from '../../storage/canonical-json';
import type { Repository } from '../../storage/repository';
import type { ManifestEntry } from '../../storage/manifest';
import { attributeChanges, conditionalAccessReferences, naturalKey, secretsOf } from '../../restore/compare';
import {
  RESTORABLE_TYPES,
  type PlanCounts,
  type PlannedObject,
  type RelationshipChange,
  type RestorePlan,
  type RestoreTarget,
} from '../../restore/types';
import type { RestoreGraph } from './restore-graph';

/** What a restore found for one target in the snapshot: the captured object and its add-ref relationships. */
export interface CapturedObject {
  type: string;
  id: string;
  displayName: string | null;
  object: Record<string, unknown>;
  relationships: Record<string, string[]>;
}

export class UnknownObjectError extends Error {}

/** Restorable relationships of a type: the ones written back with $ref (members, owners). */
export function refRelationships(type: string): string[] {
  return getObjectType(type)
    .relationships.filter((r) => r.restore === 'add-ref')
    .map((r) => r.key);
}

export async function readCaptured(
  repo: Repository,
  snapshotId: string,
  targets: readonly RestoreTarget[],
): Promise<CapturedObject[]> {
  const entriesByType = new Map<string, Map<string, ManifestEntry>>();
  const out: CapturedObject[] = [];
  for (const t of targets) {
    if (!RESTORABLE_TYPES.includes(t.type)) throw new UnknownObjectError(`type '${t.type}' is not restorable`);
    let entries = entriesByType.get(t.type);
    if (!entries) {
      entries = new Map((await repo.listEntries(snapshotId, t.type)).map((e) => [e.id, e]));
      entriesByType.set(t.type, entries);
    }
    const entry = entries.get(t.id);
    if (!entry) throw new UnknownObjectError(`${t.type} '${t.id}' is not in snapshot ${snapshotId}`);
    const relationships: Record<string, string[]> = {};
    for (const rel of refRelationships(t.type)) {
      const hash = entry.rels?.[rel];
      relationships[rel] = hash ? (await repo.readRelationship(hash)).map((i) => i.id).sort() : [];
    }
    out.push({
      type: t.type,
      id: t.id,
      displayName: entry.displayName,
      object: await repo.readObject<Record<string, unknown>>(entry.contentHash),
      relationships,
    });
  }
  return out;
}

/** Property a type is searched by to find a re-created object (see naturalKey). */
export function keyProperty(type: string): string {
  return type === 'users' ? 'userPrincipalName' : type === 'servicePrincipals' ? 'appId' : 'displayName';
}

async function planOne(graph: RestoreGraph, c: CapturedObject, restoring: ReadonlySet<string>): Promise<PlannedObject> {
  const spec = getObjectType(c.type);
  const keys = Object.fromEntries(
    (['@odata.type', 'appId'] as const).flatMap((k) => (typeof c.object[k] === 'string' ? [[k, c.object[k]]] : [])),
  ) as Record<string, string>;
  const base = { type: c.type, id: c.id, displayName: c.displayName, ...(Object.keys(keys).length ? { keys } : {}) };
  const live = await graph.readLive(c.type, c.id);
  const relationships: RelationshipChange[] = [];
  if (live) {
    for (const rel of refRelationships(c.type)) {
      const now = new Set(await graph.relationshipIds(c.type, rel, c.id));
      const want = new Set(c.relationships[rel]);
      const add = [...want].filter((id) => !now.has(id));
      const remove = [...now].filter((id) => !want.has(id));
      if (add.length || remove.length) relationships.push({ name: rel, add, remove, missing: [] });
    }
    const attributes = attributeChanges(c.type, c.object, live);
    const action = attributes.length || relationships.length ? 'update' : 'unchanged';
    return { ...base, action, attributes, relationships };
  }
  const captured = Object.entries(c.relationships)
    .filter(([, ids]) => ids.length > 0)
    .map(([name, ids]) => ({ name, add: ids, remove: [], missing: [] }));
  if (spec.deletedItemsCast) {
    const deleted = await graph.getOrNull(`/directory/deletedItems/${encodeURIComponent(c.id)}`);
    if (deleted) {
      return {
        ...base,
        action: 'restore-from-recycle-bin',
        attributes: attributeChanges(c.type, c.object, deleted),
        relationships: captured,
      };
    }
  }
  if (spec.restore.strategy !== 'recycle-bin-then-recreate' && spec.restore.strategy !== 'recreate-with-id-remap') {
    return {
      ...base,
      action: 'impossible',
      reason: `a deleted object of type '${c.type}' cannot be re-created through Graph`,
      attributes: [],
      relationships: [],
    };
  }
  if (c.type === 'servicePrincipals' && !restoring.has(String(c.object.appId))) {
    const app = await graph.idsWhere('applications', 'appId', String(c.object.appId));
    if (app.length === 0) {
      return {
        ...base,
        action: 'impossible',
        reason: `its application (appId ${String(c.object.appId)}) is gone: restore the application with it`,
        attributes: [],
        relationships: [],
      };
    }
  }
  const prop = keyProperty(c.type);
  const key = naturalKey(c.type, c.object);
  const preexisting = (await graph.idsWhere(c.type, prop, String(c.object[prop] ?? '')))
    .filter((o) => naturalKey(c.type, o) === key)
    .map((o) => String(o.id));
  if (c.type === 'users' && preexisting.length > 0) {
    return {
      ...base,
      action: 'impossible',
      reason: `another user now has userPrincipalName '${String(c.object.userPrincipalName)}'`,
      attributes: [],
      relationships: [],
    };
  }
  const secrets = secretsOf(c.type, c.object);
  return {
    ...base,
    action: 'recreate',
    attributes: attributeChanges(c.type, c.object, null),
    relationships: captured,
    preexisting,
    ...(secrets.length ? { secretsToReissue: secrets } : {}),
  };
}

/** The plan of a restore against the live tenant; nothing is written. */
export async function computePlan(
  graph: RestoreGraph,
  captured: readonly CapturedObject[],
  header: Omit<RestorePlan, 'v' | 'objects' | 'remaps'>,
): Promise<RestorePlan> {
  // Service principals of applications restored alongside are matched by the app's appId.
  const restoring = new Set(
    captured.flatMap((c) => [c.id, ...(c.type === 'applications' ? [String(c.object.appId)] : [])]),
  );
  const objects: PlannedObject[] = [];
  for (const c of captured) objects.push(await planOne(graph, c, restoring));
  const recreated = new Set(objects.filter((o) => o.action === 'recreate').map((o) => o.id));
  for (const o of objects.filter((x) => x.action === 'recreate' && x.type === 'applications')) {
    const app = captured.find((c) => c.id === o.id);
    if (app) recreated.add(String(app.object.appId));
  }
  const remaps: RestorePlan['remaps'] = [];
  if (recreated.size > 0) {
    // A re-created policy's body is remapped as it is written; every other live policy (planned or not) is patched.
    const planned = new Set(objects.filter((o) => o.action === 'recreate').map((o) => o.id));
    for (const policy of await graph.readAll(getObjectType('conditionalAccessPolicies').path)) {
      const refs = conditionalAccessReferences(policy).filter((id) => recreated.has(id));
      if (refs.length && !planned.has(String(policy.id))) {
        remaps.push({
          type: 'conditionalAccessPolicies',
          id: String(policy.id),
          displayName: (policy.displayName as string | undefined) ?? null,
          references: refs,
        });
      }
    }
  }
  return { v: 1, ...header, objects, remaps };
}

export function planHash(plan: RestorePlan): string {
  return sha256Hex(Buffer.from(canonicalJson(plan), 'utf8'));
}

export function countPlan(plan: RestorePlan): PlanCounts {
  const n = (a: string) => plan.objects.filter((o) => o.action === a).length;
  return {
    objects: plan.objects.length,
    unchanged: n('unchanged'),
    update: n('update'),
    restoreFromRecycleBin: n('restore-from-recycle-bin'),
    recreate: n('recreate'),
    impossible: n('impossible'),
    attributeChanges: plan.objects.reduce((s, o) => s + o.attributes.length, 0),
    relationshipChanges: plan.objects.reduce(
      (s, o) => s + o.relationships.reduce((r, x) => r + x.add.length + x.remove.length, 0),
      0,
    ),
  };
}
