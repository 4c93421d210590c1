export { diffObjects, invertAttributeChanges, type AttributeChange, type Json } from './object-diff';
export { diffRelationshipItems, type ItemChanges, type RelatedItem, type RelatedRef } from './relationship-diff';
export {
  diffSnapshots,
  type DiffFilter,
  type DiffSource,
  type ObjectChange,
  type ObjectRef,
  type RelationshipChange,
  type Side,
  type SnapshotEntry,
  type TypeDiff,
} from './snapshot-diff';
export { diffSummary, diffText, type SnapshotLabel } from './text-report';
export { stableJson } from './stable-json';
