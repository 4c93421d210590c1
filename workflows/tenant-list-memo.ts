import { patched, upsertMemo } from '@temporalio/workflow';
import { tenantListEntryOf, tenantListMemoKey } from '../tenants/list-entry';
import type { TenantRecord } from '../tenants/types';

/**
 * Keeps the tenant's list entry in the workflow's memo, so `GET /tenants` reads a page of tenants from one visibility
 * list instead of one query per tenant. `stale` belongs in the tenant workflow's wake-up condition (any signal or
 * update that changes the record wakes it), `publish` after each wake-up: it writes the memo only when the entry
 * changed. Behind a patch so histories of tenant workflows started before it replay unchanged.
 */
export function tenantListMemo(): { stale(record: TenantRecord): boolean; publish(record: TenantRecord): void } {
  let published = '';
  const current = (record: TenantRecord) => JSON.stringify(tenantListEntryOf(record));
  return {
    stale: (record) => current(record) !== published,
    publish(record) {
      const entry = current(record);
      if (entry === published) return;
      published = entry;
      if (patched('tenant-list-memo')) upsertMemo({ [tenantListMemoKey]: JSON.parse(entry) as unknown });
    },
  };
}
