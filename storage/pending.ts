/**
 * `pending/<manifest root id>`: written when a type writer finishes, deleted when a snapshot record names the
 * manifest. Between the two, prune treats the manifest as live; a marker older than the grace period belongs to a
 * backup that never committed, and prune deletes it.
 */
export const PENDING_PREFIX = 'pending/';

export function pendingKey(manifestId: string): string {
  return PENDING_PREFIX + manifestId;
}
