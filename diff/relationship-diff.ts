import { stableJson } from './stable-json';

/** A related item as captured: at least its id (a directory object reference, an app-role assignment…). */
export type RelatedItem = { id: string } & Record<string, unknown>;

/** A related item as a report shows it: its id, catalog type and display name where the snapshot has them. */
export interface RelatedRef {
  id: string;
  type: string | null;
  displayName: string | null;
}

/** Items added to and removed from one relationship (by id), and those whose captured fields changed. */
export interface ItemChanges {
  added: RelatedItem[];
  removed: RelatedItem[];
  changed: RelatedItem[];
}

/** Compares two captures of one relationship by item id. Pure. */
export function diffRelationshipItems(before: readonly RelatedItem[], after: readonly RelatedItem[]): ItemChanges {
  const old = new Map(before.map((item) => [item.id, item]));
  const now = new Map(after.map((item) => [item.id, item]));
  const byId = (a: RelatedItem, b: RelatedItem) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    added: after.filter((item) => !old.has(item.id)).sort(byId),
    removed: before.filter((item) => !now.has(item.id)).sort(byId),
    changed: after.filter((item) => old.has(item.id) && stableJson(old.get(item.id)) !== stableJson(item)).sort(byId),
  };
}
