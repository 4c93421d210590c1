/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, problemOf, type Problem } from '../api';
import type { SnapshotPage } from '../detail-types';
import { when } from '../format';
import { html } from '../html';
import type { TenantItem } from '../types';
import { LastBackupView, restoreAppText, StatusBadge } from './badges';
import { ObjectList, Timeline, TypeList } from './browse';
import { DiffView } from './diff';
import { DownloadButton } from './download';
import { ObjectSidebar } from './object-sidebar';
import { ProblemView } from './problem';

/**
 * Show detail of one tenant, read from the public API only: the record (GET /tenants/{id}), the snapshot timeline,
 * a snapshot's types and objects, the object sidebar (JSON, relationships, history, Download, Restore), the diff
 * between any two snapshots and Download at tenant and type level.
 */
export function TenantDetail(props: { tenantId: string }) {
  const [tenant, setTenant] = useState<TenantItem | undefined>();
  const [page, setPage] = useState<SnapshotPage | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [snapshotId, setSnapshotId] = useState<string | undefined>();
  const [type, setType] = useState<string | undefined>();
  const [objectId, setObjectId] = useState<string | undefined>();
  const [ask, setAsk] = useState<{ from: string; to: string; n: number } | undefined>();

  useEffect(() => {
    api<TenantItem>('GET', `/tenants/${props.tenantId}`).then(setTenant, (err) => setProblem(problemOf(err)));
    api<SnapshotPage>('GET', `/tenants/${props.tenantId}/snapshots?limit=60`).then(
      (r) => {
        setPage(r);
        setSnapshotId((s) => s ?? r.snapshots[0]?.id);
      },
      // A tenant whose first backup has not finished has no repository yet: the API says 404.
      (err) =>
        err instanceof ApiError && err.problem.status === 404
          ? setPage({ total: 0, chain: { ok: true }, snapshots: [] })
          : setProblem(problemOf(err)),
    );
  }, [props.tenantId]);

  /** Archiver keeps long histories: the timeline reads the next page of older snapshots on demand. */
  const older = () =>
    page &&
    api<SnapshotPage>('GET', `/tenants/${props.tenantId}/snapshots?offset=${page.snapshots.length}&limit=60`).then(
      (r) => setPage({ ...r, snapshots: [...page.snapshots, ...r.snapshots] }),
      (err) => setProblem(problemOf(err)),
    );

  const chooseSnapshot = (id: string) => {
    setSnapshotId(id);
    setObjectId(undefined);
  };
  const chooseType = (t: string) => {
    setType(t);
    setObjectId(undefined);
  };
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
    ${page && page.snapshots.length === 0 && html`<p class="muted">No backup has finished yet.</p>`}
    ${
      page &&
      page.snapshots.length > 0 &&
      html`<${Timeline}
          snapshots=${page.snapshots}
          total=${page.total}
          selected=${snapshotId}
          onSelect=${chooseSnapshot}
          onOlder=${page.snapshots.length < page.total ? older : undefined}
        />
        ${page.chain.ok === false && html`<p class="warning">The snapshot hash chain did not verify.</p>`}
        ${
          snapshotId &&
          html`<section class="panel" aria-labelledby="download-h">
              <h2 id="download-h">Download</h2>
              <p class="muted">A zip of JSON of the chosen snapshot; the link is valid for 7 days.</p>
              <${DownloadButton}
                tenantId=${props.tenantId}
                label="Download the whole tenant"
                request=${{ level: 'tenant', snapshotId }}
              />
              ${
                type &&
                html`<${DownloadButton}
                  tenantId=${props.tenantId}
                  label=${`Download all ${type}`}
                  request=${{ level: 'type', snapshotId, type }}
                />`
              }
            </section>
            <div class="browse">
              <${TypeList}
                tenantId=${props.tenantId}
                snapshotId=${snapshotId}
                selected=${type}
                onSelect=${chooseType}
              />
              ${
                type &&
                html`<${ObjectList}
                  key=${`${snapshotId}/${type}`}
                  tenantId=${props.tenantId}
                  snapshotId=${snapshotId}
                  type=${type}
                  selected=${objectId}
                  onOpen=${setObjectId}
                />`
              }
              ${
                type &&
                objectId &&
                html`<${ObjectSidebar}
                  tenantId=${props.tenantId}
                  snapshotId=${snapshotId}
                  type=${type}
                  objectId=${objectId}
                  onClose=${() => setObjectId(undefined)}
                  onCompare=${(from: string, to: string) => setAsk({ from, to, n: (ask?.n ?? 0) + 1 })}
                />`
              }
            </div>`
        }
        <${DiffView}
          tenantId=${props.tenantId}
          snapshots=${page.snapshots}
          object=${type && objectId ? { type, id: objectId } : undefined}
          ask=${ask}
        />`
    }
  </main>`;
}
