/// <reference lib="dom" />
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Problem } from '../api';
import { openConsentWindow } from '../consent';
import { when } from '../format';
import { html } from '../html';
import type { Organization, TenantItem, TenantPage } from '../types';
import { AddTenant } from './add-tenant';
import { LastBackupView, restoreAppText, StatusBadge } from './badges';
import { ProblemView } from './problem';

const PAGE_SIZE = 100;

interface Filters {
  organizationId: string;
  status: string;
  plan: string;
  lastBackup: string;
  search: string;
}

const noFilters: Filters = { organizationId: '', status: '', plan: '', lastBackup: '', search: '' };

/**
 * The reseller's tenants, one page of GET /tenants at a time, refreshed every few seconds (faster while a consent is
 * awaited) so consent, Reauthorization required and backup results show without a reload.
 */
export function Dashboard(props: { banner: (text: string) => void }) {
  const [organizations, setOrganizations] = useState<Organization[]>([]);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<(TenantPage & { number: number }) | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [adding, setAdding] = useState(false);
  const awaited = useRef(new Set<string>());
  const latest = useRef('');
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    const q = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    // A poll of the page shown before a filter or page change must not overwrite the new one.
    const asked = (latest.current = `${q}`);
    try {
      const next = await api<TenantPage>('GET', `/tenants?${q}`);
      if (asked !== latest.current) return;
      setPage({ ...next, number: cursors.length });
      setProblem(undefined);
      for (const t of next.tenants) {
        if (awaited.current.has(t.tenantId) && t.status === 'active') {
          awaited.current.delete(t.tenantId);
          props.banner(`Consent received: ${t.displayName ?? t.directory} is active.`);
        }
      }
    } catch (err) {
      setProblem(err instanceof ApiError ? err.problem : { title: 'The tenants could not be loaded', status: 0 });
    }
  }, [filters, cursors]);

  useEffect(() => {
    api<{ organizations: Organization[] }>('GET', '/organizations').then(
      (r) => setOrganizations(r.organizations),
      () => undefined,
    );
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), awaited.current.size > 0 ? 2000 : 5000);
    return () => clearInterval(timer);
  }, [load, page?.tenants.length, awaited.current.size]);

  const setFilter = (name: keyof Filters) => (e: Event) => {
    setFilters({ ...filters, [name]: (e.currentTarget as HTMLInputElement).value });
    setCursors([undefined]);
  };

  async function act(run: () => Promise<void>) {
    try {
      await run();
    } catch (err) {
      if (err instanceof ApiError) setProblem(err.problem);
    }
  }

  const backupNow = (t: TenantItem) =>
    act(async () => {
      const started = await api<{ workflowId: string; alreadyRunning?: boolean }>(
        'POST',
        `/tenants/${t.tenantId}/backups`,
      );
      props.banner(
        started.alreadyRunning
          ? `A backup of ${t.displayName ?? t.directory} is already running.`
          : `Backup of ${t.displayName ?? t.directory} started. Follow it on System Status.`,
      );
      await load();
    });

  const consentAgain = (t: TenantItem, path: string, body?: unknown) =>
    act(async () => {
      await openConsentWindow(path, body);
      awaited.current.add(t.tenantId);
      await load();
    });

  // An organization user: the API refuses the list; say so in its words and offer nothing that would be refused too.
  if (problem?.status === 403 && !page) {
    return html`<main id="main">
      <h1>Tenants</h1>
      <${ProblemView} problem=${problem} />
    </main>`;
  }

  const orgName = (id: string) => organizations.find((o) => o.id === id)?.name ?? id;

  return html`<main id="main">
    <div class="title-row">
      <h1>Tenants</h1>
      <button type="button" class="primary" onClick=${() => setAdding(true)} disabled=${adding}>Add tenant</button>
    </div>
    ${
      adding &&
      html`<${AddTenant}
        organizations=${organizations}
        onAdded=${() => void load()}
        onConsentOpened=${(t: TenantItem) => {
          awaited.current.add(t.tenantId);
          void load();
        }}
        onClose=${() => setAdding(false)}
      />`
    }
    <form class="filters" role="search" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field">
        <label for="f-search">Search name or domain</label>
        <input
          id="f-search"
          type="search"
          placeholder="start of the name or domain"
          value=${filters.search}
          onChange=${setFilter('search')}
        />
      </div>
      <div class="field">
        <label for="f-org">Organization</label>
        <select id="f-org" value=${filters.organizationId} onChange=${setFilter('organizationId')}>
          <option value="">All</option>
          ${organizations.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-status">Status</label>
        <select id="f-status" value=${filters.status} onChange=${setFilter('status')}>
          <option value="">All</option>
          <option value="active">Active</option>
          <option value="awaiting-consent">Awaiting consent</option>
          <option value="reauthorization-required">Reauthorization required</option>
        </select>
      </div>
      <div class="field">
        <label for="f-plan">Plan</label>
        <select id="f-plan" value=${filters.plan} onChange=${setFilter('plan')}>
          <option value="">All</option>
          <option value="backup">Backup</option>
          <option value="archiver">Archiver</option>
        </select>
      </div>
      <div class="field">
        <label for="f-last">Last backup</label>
        <select id="f-last" value=${filters.lastBackup} onChange=${setFilter('lastBackup')}>
          <option value="">All</option>
          <option value="completed">Complete</option>
          <option value="incomplete">Incomplete</option>
          <option value="failed">Failed</option>
          <option value="running">Running</option>
          <option value="none">None yet</option>
        </select>
      </div>
    </form>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${
      page &&
      html`<p class="muted" aria-live="polite">
          ${page.total} tenant${page.total === 1 ? '' : 's'}${page.total > PAGE_SIZE ? ` — page ${page.number}` : ''}
        </p>
        <div class="table-wrap">
          <table class="tenants">
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Organization</th>
                <th scope="col">Plan</th>
                <th scope="col">Storage</th>
                <th scope="col">Status</th>
                <th scope="col">Restore app</th>
                <th scope="col">Last backup</th>
                <th scope="col">Next backup</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              ${page.tenants.map(
                (t) =>
                  html`<tr key=${t.tenantId} data-tenant-id=${t.tenantId}>
                    <td data-label="Tenant">
                      <strong>${t.displayName ?? t.directory}</strong>
                      ${t.displayName ? html`<br /><span class="muted">${t.directory}</span>` : null}
                    </td>
                    <td data-label="Organization">${orgName(t.organizationId)}</td>
                    <td data-label="Plan">${t.plan === 'archiver' ? 'Archiver' : 'Backup'}</td>
                    <td data-label="Storage">${t.storageRegion ?? '—'}</td>
                    <td data-label="Status">
                      <${StatusBadge} status=${t.status} />
                      ${
                        t.status === 'reauthorization-required' &&
                        html`${t.reason && html`<span class="detail">${t.reason}</span>`}
                          <button
                            type="button"
                            onClick=${() => consentAgain(t, `/tenants/${t.tenantId}/reauthorize`)}
                            aria-label=${`Update now: reauthorize ${t.directory}`}
                          >
                            Update now
                          </button>`
                      }
                      ${
                        t.status === 'awaiting-consent' &&
                        html`${t.backupApp.reason && html`<span class="detail">${t.backupApp.reason}</span>`}
                          <button
                            type="button"
                            onClick=${() => consentAgain(t, `/tenants/${t.tenantId}/consent-requests`, { app: 'backup' })}
                            aria-label=${`Sign in with Microsoft for ${t.directory}`}
                          >
                            Sign in with Microsoft
                          </button>`
                      }
                    </td>
                    <td data-label="Restore app">
                      ${restoreAppText(t)}
                      ${
                        t.status === 'active' &&
                        t.restoreApp.state !== 'granted' &&
                        html`<button
                          type="button"
                          onClick=${() =>
                            consentAgain(t, `/tenants/${t.tenantId}/consent-requests`, {
                              app: 'restore',
                              mode: 'permanent',
                            })}
                          aria-label=${`Authorize the Restore app for ${t.directory}`}
                        >
                          Authorize
                        </button>`
                      }
                    </td>
                    <td data-label="Last backup"><${LastBackupView} last=${t.lastBackup} /></td>
                    <td data-label="Next backup">${t.nextBackupAt ? when(t.nextBackupAt) : '—'}</td>
                    <td data-label="Actions" class="actions">
                      <button
                        type="button"
                        disabled=${t.status !== 'active'}
                        onClick=${() => backupNow(t)}
                        aria-label=${`Backup now: ${t.directory}`}
                      >
                        Backup now
                      </button>
                      <a href=${`#/tenants/${t.tenantId}`} aria-label=${`Show detail: ${t.directory}`}>Show detail</a>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>
            Previous page
          </button>
          <button
            type="button"
            disabled=${!page.nextCursor}
            onClick=${() => page.nextCursor && setCursors([...cursors, page.nextCursor])}
          >
            Next page
          </button>
        </nav>`
    }
  </main>`;
}
