/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, optionalApi, type Problem } from '../api';
import { openConsentWindow } from '../consent';
import { html } from '../html';
import type { Organization, TenantItem } from '../types';
import { ProblemView } from './problem';

interface StorageLocationOption {
  id: string;
  label: string;
}

/** The storage locations the operator offers (GET /storage-locations): the reseller picks one, never a bucket. */
async function storageLocations(): Promise<StorageLocationOption[] | null> {
  const answer = await optionalApi<{ locations: { id: string; displayName: string; region: string }[] }>(
    '/storage-locations',
  );
  if (answer === null) return null;
  return answer.locations.map((l) => ({ id: l.id, label: `${l.displayName} — ${l.region}` }));
}

/**
 * Add tenant / Activate Backup, as in the seed: organization, storage location, plan, immediate backup, frequency;
 * then Sign in with Microsoft opens the admin-consent page in a new window. The dashboard notices the consent itself.
 */
export function AddTenant(props: {
  organizations: Organization[];
  onAdded: (t: TenantItem) => void;
  onConsentOpened: (t: TenantItem) => void;
  onClose: () => void;
}) {
  const [locations, setLocations] = useState<StorageLocationOption[] | null | undefined>(undefined);
  const [plan, setPlan] = useState<'backup' | 'archiver'>('backup');
  const [archiverUnderstood, setArchiverUnderstood] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [added, setAdded] = useState<TenantItem | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    storageLocations().then(setLocations, (err) => {
      setLocations(null);
      if (err instanceof ApiError) setProblem(err.problem);
    });
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const directory = String(f.get('directory') ?? '').trim();
    const storage = { storageLocationId: String(f.get('storageLocationId')) };
    setBusy(true);
    setProblem(undefined);
    try {
      const tenant = await api<TenantItem>('POST', '/tenants', {
        organizationId: f.get('organizationId'),
        directory,
        plan,
        backupImmediately: f.get('backupImmediately') === 'on',
        ...storage,
      });
      setAdded(tenant);
      props.onAdded(tenant);
    } catch (err) {
      setProblem(err instanceof ApiError ? err.problem : { title: 'The tenant was not added', status: 0 });
    } finally {
      setBusy(false);
    }
  }

  async function signInWithMicrosoft() {
    if (!added) return;
    setProblem(undefined);
    try {
      await openConsentWindow(`/tenants/${added.tenantId}/consent-requests`, { app: 'backup' });
      props.onConsentOpened(added);
    } catch (err) {
      if (err instanceof ApiError) setProblem(err.problem);
    }
  }

  if (added) {
    return html`<section class="panel" aria-labelledby="add-title">
      <h2 id="add-title">Activate Backup: ${added.directory}</h2>
      <p>
        The tenant was added and waits for its administrator's consent to the read-only Backup app. Sign in with a
        Global Administrator of ${added.directory}; this dashboard updates by itself once consent arrives.
      </p>
      <button type="button" class="primary" onClick=${signInWithMicrosoft}>Sign in with Microsoft</button>
      <button type="button" onClick=${props.onClose}>Close</button>
      ${problem && html`<${ProblemView} problem=${problem} />`}
    </section>`;
  }

  const archiverBlocked = plan === 'archiver' && !archiverUnderstood;
  const planChoice = (value: typeof plan, label: string) =>
    html`<label class="choice"
      ><input type="radio" name="plan" value=${value} checked=${plan === value} onChange=${() => setPlan(value)} />
      ${label}</label
    >`;
  return html`<section class="panel" aria-labelledby="add-title">
    <h2 id="add-title">Add tenant</h2>
    <form onSubmit=${submit}>
      <div class="field">
        <label for="organizationId">Organization</label>
        <select id="organizationId" name="organizationId" required>
          ${props.organizations.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="directory">Microsoft tenant id or domain</label>
        <input id="directory" name="directory" required placeholder="contoso.onmicrosoft.com" spellcheck="false" />
      </div>
      ${
        locations === undefined
          ? html`<p class="muted">Loading storage locations…</p>`
          : locations
            ? html`<div class="field">
                <label for="storageLocationId">Storage location</label>
                <select id="storageLocationId" name="storageLocationId" required>
                  ${locations.map((l) => html`<option value=${l.id}>${l.label}</option>`)}
                </select>
              </div>`
            : html`<p class="problem" role="alert">This server offers no storage location: ask its operator.</p>`
      }
      <fieldset>
        <legend>Plan</legend>
        ${planChoice('backup', 'Backup — daily backups kept for the retention period')}
        ${planChoice('archiver', 'Archiver — every backup kept, longer history')}
        ${
          plan === 'archiver' &&
          html`<p class="warning" id="archiver-note">
              Archiver can never be downgraded to Backup: archived history must stay kept.
            </p>
            <label class="choice"
              ><input
                type="checkbox"
                name="archiverUnderstood"
                aria-describedby="archiver-note"
                checked=${archiverUnderstood}
                onChange=${(e: Event) => setArchiverUnderstood((e.currentTarget as HTMLInputElement).checked)}
              />
              I understand that Archiver cannot be downgraded</label
            >`
        }
      </fieldset>
      <label class="choice"
        ><input type="checkbox" name="backupImmediately" checked /> Immediate backup after consent</label
      >
      <div class="field">
        <label for="frequency">Frequency</label>
        <select id="frequency" name="frequency">
          <option value="24h">Every 24 hours</option>
        </select>
      </div>
      <button type="submit" class="primary" disabled=${busy || archiverBlocked}>Activate Backup</button>
      <button type="button" onClick=${props.onClose}>Cancel</button>
    </form>
    ${problem && html`<${ProblemView} problem=${problem} />`}
  </section>`;
}
