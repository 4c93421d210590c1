import { attributeChanges, remapIds } from '../../restore/compare';
import type { ObjectReport, RestorePlan, RestoreReport } from '../../restore/types';
import type { RestoreProgress } from './apply';
import { refRelationships, type CapturedObject } from './plan';
import type { RestoreGraph } from './restore-graph';

const REPORT_ONLY = 'enabledForReportingButNotEnforced';

/**
 * Reads every object the restore touched back from Graph and compares it with the snapshot (ids remapped): the proof
 * that the restore worked, property by property. Relationship targets that no longer exist are not restorable and
 * are named, not counted.
 */
export async function verifyRestore(
  graph: RestoreGraph,
  plan: RestorePlan,
  captured: readonly CapturedObject[],
  progress: RestoreProgress,
): Promise<RestoreReport> {
  const objects: ObjectReport[] = [];
  let restorable = 0;
  let restored = 0;
  const secretsToReissue: RestoreReport['secretsToReissue'] = [];
  for (const o of plan.objects) {
    const c = captured.find((x) => x.type === o.type && x.id === o.id);
    const base = { type: o.type, id: o.id, displayName: o.displayName };
    if (!c) continue;
    if (o.action === 'impossible') {
      objects.push({ ...base, outcome: 'not-restorable', error: o.reason });
      continue;
    }
    if (o.secretsToReissue?.length)
      secretsToReissue.push({ type: o.type, id: o.id, displayName: o.displayName, secrets: o.secretsToReissue });
    const liveId = progress.mapping[o.id] ?? o.id;
    const failure = progress.failures[o.id];
    const live = await graph.readLive(o.type, liveId);
    if (!live) {
      objects.push({
        ...base,
        outcome: 'failed',
        error: failure ?? 'the object is not in the tenant after the restore',
      });
      continue;
    }
    const expected = remapIds(c.object, progress.mapping);
    if (o.type === 'conditionalAccessPolicies' && plan.conditionalAccessState === 'report-only') {
      // Deliberate: a re-created or reset policy comes back report-only unless the request asked otherwise.
      const reset = o.action === 'recreate' || o.attributes.some((a) => a.name === 'state');
      if (reset) expected.state = REPORT_ONLY;
    }
    const differences: NonNullable<ObjectReport['differences']> = attributeChanges(o.type, expected, live).map((d) => ({
      name: d.name,
      expected: d.restored,
      actual: d.current,
      why: failure ?? 'Graph accepted the write but the property reads back different',
    }));
    const attributeCount = attributeChanges(o.type, expected, null).length;
    restorable += attributeCount;
    restored += attributeCount - Math.min(differences.length, attributeCount);
    for (const rel of refRelationships(o.type)) {
      const gone = new Set(progress.missing[o.id]?.[rel] ?? []);
      const want = c.relationships[rel].filter((id) => !gone.has(id)).map((id) => progress.mapping[id] ?? id);
      const have = new Set(await graph.relationshipIds(o.type, rel, liveId));
      const lacking = want.filter((id) => !have.has(id));
      restorable += want.length;
      restored += want.length - lacking.length;
      if (lacking.length) {
        differences.push({ name: rel, expected: lacking, actual: null, why: failure ?? 'not in the relationship' });
      }
      if (gone.size) {
        differences.push({
          name: rel,
          expected: [...gone],
          actual: null,
          why: 'these members no longer exist in the tenant and were not part of this restore',
        });
      }
    }
    const outcome =
      o.action === 'unchanged' && differences.length === 0
        ? 'unchanged'
        : differences.length === 0 && !failure
          ? 'restored'
          : 'partly-restored';
    objects.push({
      ...base,
      ...(liveId !== o.id ? { liveId } : {}),
      outcome,
      ...(differences.length ? { differences } : {}),
      ...(failure ? { error: failure } : {}),
    });
  }
  return {
    v: 1,
    restoreId: plan.restoreId,
    objects,
    idMapping: progress.mapping,
    secretsToReissue,
    temporaryPasswordUsers: progress.temporaryPasswordUsers,
    fidelity: { restorable, restored },
  };
}
