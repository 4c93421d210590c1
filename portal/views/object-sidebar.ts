/// <reference lib="dom" />
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api';
import type { HistoryItem, ObjectDetail } from '../detail-types';
import { when } from '../format';
import { html } from '../html';
import { DownloadButton } from './download';
import { ProblemView } from './problem';
import { RestoreButton } from './restore';

const events: Record<HistoryItem['event'], string> = {
  captured: 'Captured',
  created: 'Created',
  changed: 'Changed',
  'soft-deleted': 'Moved to the recycle bin',
  restored: 'Restored from the recycle bin',
  deleted: 'Deleted',
};

function historyText(h: HistoryItem): string {
  const what = [h.contentChanged ? 'attributes' : '', ...h.relationshipsChanged].filter(Boolean);
  return h.event === 'changed' && what.length ? `Changed: ${what.join(', ')}` : events[h.event];
}

/** One object as captured: its JSON, its relationships by name, its version history, Download and Restore. */
export function ObjectSidebar(props: {
  tenantId: string;
  snapshotId: string;
  type: string;
  objectId: string;
  onClose: () => void;
  onCompare: (from: string, to: string) => void;
}) {
  const [detail, setDetail] = useState<ObjectDetail | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    setDetail(undefined);
    setProblem(undefined);
    api<ObjectDetail>(
      'GET',
      `/tenants/${props.tenantId}/snapshots/${props.snapshotId}/types/${props.type}/objects/${encodeURIComponent(props.objectId)}`,
    ).then(
      (d) => {
        setDetail(d);
        setTimeout(() => heading.current?.focus(), 0);
      },
      (err) => setProblem(problemOf(err)),
    );
  }, [props.tenantId, props.snapshotId, props.type, props.objectId]);

  return html`<aside class="sidebar panel" aria-labelledby="sidebar-h">
    <div class="sidebar-head">
      <h2 id="sidebar-h" tabindex="-1" ref=${heading}>${detail?.displayName ?? props.objectId}</h2>
      <button type="button" onClick=${props.onClose}>Close</button>
    </div>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${
      detail &&
      html`<p class="muted">
          ${props.type} · ${detail.id}
          ${detail.state === 'in-recycle-bin' && html` · <span class="badge badge-warn">In the recycle bin</span>`}
        </p>
        <div class="actions">
          <${DownloadButton}
            tenantId=${props.tenantId}
            label="Download this object"
            request=${{ level: 'object', snapshotId: props.snapshotId, type: props.type, objectId: props.objectId }}
          />
          <${RestoreButton}
            tenantId=${props.tenantId}
            snapshotId=${props.snapshotId}
            objects=${[{ type: props.type, id: props.objectId }]}
            name=${detail.displayName ?? detail.id}
          />
        </div>
        <h3>Version history</h3>
        <ol class="history" aria-label="Version history">
          ${detail.history.map(
            (h, i) =>
              html`<li key=${h.snapshotId}>
                <time datetime=${h.startedAt}>${when(h.startedAt)}</time> — ${historyText(h)}
                ${
                  i + 1 < detail.history.length &&
                  h.event !== 'captured' &&
                  html` <button
                    type="button"
                    class="link"
                    onClick=${() => props.onCompare(detail.history[i + 1].snapshotId, h.snapshotId)}
                  >
                    What changed
                  </button>`
                }
              </li>`,
          )}
        </ol>
        <h3>Relationships</h3>
        ${Object.keys(detail.relationships).length === 0 && html`<p class="muted">None.</p>`}
        ${Object.entries(detail.relationships).map(
          ([name, r]) =>
            html`<details key=${name}>
              <summary>${name} (${r.count})</summary>
              <ul>
                ${r.items.map(
                  (i) => html`<li key=${i.id}>${i.displayName ?? i.id} <span class="muted">${i.type ?? ''}</span></li>`,
                )}
              </ul>
              ${r.truncated && html`<p class="muted">The first ${r.items.length} are shown.</p>`}
            </details>`,
        )}
        <h3>JSON</h3>
        <pre class="json" tabindex="0" aria-label="The object as captured, JSON">
${JSON.stringify(detail.object, null, 2)}</pre>`
    }
  </aside>`;
}
