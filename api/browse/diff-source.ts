import { ignoredInDiff, unorderedArrays } from '../../catalog';
import type { DiffSource, Side } from '../../diff';
import type { ManifestEntry } from '../../storage/manifest';
import type { SnapshotInfo } from '../../storage/repository';
import type { SnapshotReader } from '../../storage/snapshot-reader';

/** The diff's view of two snapshots of one repository: manifests, objects and relationships read through `reader`. */
export function repositoryDiffSource(reader: SnapshotReader, from: SnapshotInfo, to: SnapshotInfo): DiffSource {
  const snap = (side: Side) => (side === 'from' ? from : to);
  const other = (side: Side) => (side === 'from' ? to : from);
  const manifestOf = (side: Side, type: string) => {
    const coverage = snap(side).record.types[type];
    if (coverage?.status !== 'captured') throw new Error(`type ${type} is not captured in ${snap(side).id}`);
    return coverage.manifest;
  };
  return {
    coverage: (side) =>
      Promise.resolve(
        Object.fromEntries(
          Object.entries(snap(side).record.types).map(([type, c]) => [
            type,
            c.status === 'captured' ? { manifest: c.manifest } : { skipped: c.reason },
          ]),
        ),
      ),
    entries: (side, type, ids) => reader.entriesOf(manifestOf(side, type), ids),
    candidates: (type) => reader.changedBetween(manifestOf('from', type), manifestOf('to', type)),
    readObjects: (_side, type, entries) => reader.readObjects(type, entries as ManifestEntry[]),
    readRelationship: (side, id) => reader.readRelationship(id, `relationship ${id} of snapshot ${snap(side).id}`),
    describe: (side, type, relationship, parentId, items) =>
      reader.describe([snap(side), other(side)], type, relationship, parentId, items),
    unorderedArrays,
    ignoredProperties: ignoredInDiff,
  };
}
