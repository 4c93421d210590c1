import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { tenantListEntryOf, tenantListMemoKey, tenantListSearchValuesOf } from '../tenants/list-entry';
import type { TenantRecord } from '../tenants/types';
import { tenantListSearchAttributes } from '../temporal/search-attributes';

/**
 * Keeps the tenant's list entry in the workflow's memo, and the fields a list filters and searches on (plan, last
 * backup result, name, domain) in its search attributes, so `GET /tenants` reads, filters and searches a page of
 * tenants in one visibility list instead of one query per tenant. `stale` belongs in the tenant workflow's wake-up
 * condition (any signal or update that changes the record wakes it), `publish` after each wake-up: it writes the
 * memo and the search attributes only when they changed. Each behind its own patch, so histories of tenant
 * workflows started before them replay unchanged.
 */
export function tenantListMemo(): { stale(record: TenantRecord): boolean; publish(record: TenantRecord): void } {
  let published = '';
  let publishedSearch = '';
  const current = (record: TenantRecord) => JSON.stringify(tenantListEntryOf(record));
  return {
    stale: (record) => current(record) !== published,
    publish(record) {
      const entry = current(record);
      if (entry === published) return;
      published = entry;
      if (patched('tenant-list-memo')) upsertMemo({ [tenantListMemoKey]: JSON.parse(entry) as unknown });
      const search = tenantListSearchValuesOf(record);
      if (JSON.stringify(search) === publishedSearch) return;
      publishedSearch = JSON.stringify(search);
      if (patched('tenant-list-search-attributes')) {
        upsertSearchAttributes(tenantListSearchAttributes(search));
      }
    },
  };
}
