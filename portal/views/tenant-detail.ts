/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, optionalApi, type Problem } from '../api';
import { when } from '../format';
import { html } from '../html';
import type { TenantItem } from '../types';
import { LastBackupView, restoreAppText, StatusBadge } from './badges';
import { ProblemView } from './problem';

/**
 * Show detail of one tenant. The record comes from GET /tenants/{id}. The browse (snapshot timeline, types, objects,
 * sidebar with history), diff, download and restore screens each belong to an API that this deployment may not have
 * yet: each section asks its API and, on 404, says the feature is not available instead of showing anything made up.
 * Add a screen by replacing its `Pending` section with a component fed by that API.
 */
export function TenantDetail(props: { tenantId: string }) {
  const [tenant, setTenant] = useState<TenantItem | undefined>();
  const [snapshots, setSnapshots] = useState<unknown[] | null | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();

  useEffect(() => {
    api<TenantItem>('GET', `/tenants/${props.tenantId}`).then(setTenant, (err) =>
      setProblem(err instanceof ApiError ? err.problem : { title: 'The tenant could not be loaded', status: 0 }),
    );
    optionalApi<{ snapshots: unknown[] }>(`/tenants/${props.tenantId}/snapshots`).then(
      (r) => setSnapshots(r ? r.snapshots : null),
      () => setSnapshots(null),
    );
  }, [props.tenantId]);

  const Pending = (p: { title: string; api: string }) =>
    html`<section class="panel pending" aria-label=${p.title}>
      <h2>${p.title}</h2>
      <p class="muted">Not available on this server yet (it needs ${p.api}).</p>
    </section>`;

  return html`<main id="main">
    <p><a href="#/">← Tenants</a></p>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${
      tenant &&
      html`<h1>${tenant.displayName ?? tenant.directory}</h1>
        <dl class="facts">
          <dt>Domain or tenant id</dt>
          <dd>${tenant.directory}</dd>
          <dt>Status</dt>
          <dd><${StatusBadge} status=${tenant.status} /></dd>
          <dt>Plan</dt>
          <dd>${tenant.plan === 'archiver' ? 'Archiver (cannot be downgraded)' : 'Backup'}</dd>
          <dt>Restore app</dt>
          <dd>${restoreAppText(tenant)}</dd>
          <dt>Last backup</dt>
          <dd><${LastBackupView} last=${tenant.lastBackup} /></dd>
          <dt>Added</dt>
          <dd>${when(tenant.createdAt)}</dd>
        </dl>`
    }
    ${
      snapshots === null
        ? html`<${Pending} title="Snapshots" api="GET /tenants/{id}/snapshots" />`
        : snapshots === undefined
          ? html`<p class="muted">Loading snapshots…</p>`
          : html`<section class="panel">
              <h2>Snapshots</h2>
              <p>${snapshots.length} snapshots.</p>
            </section>`
    }
    <${Pending} title="Compare snapshots" api="the diff API" />
    <${Pending} title="Download" api="the export API" />
    <${Pending} title="Restore" api="the restore API" />
  </main>`;
}
