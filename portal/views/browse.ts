/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api';
import type { ObjectPage, SnapshotSummary, TypeCount } from '../detail-types';
import { when } from '../format';
import { html } from '../html';
import { ProblemView } from './problem';
import { RestoreButton } from './restore';

const PAGE = 25;

/** One snapshot of the timeline: an incomplete one says so and which types it skipped; it is never "good". */
export function snapshotLabel(s: SnapshotSummary): string {
  const skipped = Object.entries(s.coverage)
    .filter(([, c]) => c.status === 'skipped')
    .map(([t]) => t);
  return `${when(s.startedAt)} — ${s.complete ? 'complete' : `incomplete (skipped: ${skipped.join(', ')})`}`;
}

/** The snapshot timeline, newest first; choosing one shows its types. */
export function Timeline(props: {
  snapshots: SnapshotSummary[];
  total: number;
  selected?: string;
  onSelect: (id: string) => void;
  onOlder?: () => void;
}) {
  return html`<section class="panel" aria-labelledby="timeline-h">
    <h2 id="timeline-h">Snapshots</h2>
    <p class="muted">${props.total} daily snapshots, newest first.</p>
    <ol class="timeline">
      ${props.snapshots.map((s) => {
        const objects = Object.values(s.counts).reduce((n, c) => n + c.count, 0);
        return html`<li class=${s.complete ? 'snap' : 'snap incomplete'} key=${s.id}>
          <button type="button" aria-pressed=${props.selected === s.id} onClick=${() => props.onSelect(s.id)}>
            ${when(s.startedAt)}
          </button>
          ${
            s.complete
              ? html`<span class="badge badge-active">Complete</span>`
              : html`<span class="badge badge-warn">Incomplete — not a full backup</span>`
          }
          <span class="muted">${objects} objects${s.chainVerified ? '' : ' · hash chain not verified'}</span>
          ${
            !s.complete &&
            html`<span class="muted">
              Skipped:
              ${Object.entries(s.coverage)
                .flatMap(([t, c]) => (c.status === 'skipped' ? [`${t} (${c.reason ?? 'skipped'})`] : []))
                .join(', ')}</span
            >`
          }
        </li>`;
      })}
    </ol>
    ${props.onOlder && html`<button type="button" onClick=${props.onOlder}>Older snapshots</button>`}
  </section>`;
}

/** The object types of one snapshot with their counts; a skipped type says why and cannot be opened. */
export function TypeList(props: {
  tenantId: string;
  snapshotId: string;
  selected?: string;
  onSelect: (type: string) => void;
}) {
  const [types, setTypes] = useState<TypeCount[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  useEffect(() => {
    setTypes(undefined);
    let current = true;
    api<{ types: TypeCount[] }>('GET', `/tenants/${props.tenantId}/snapshots/${props.snapshotId}/types`).then(
      (r) => current && setTypes(r.types),
      (err) => current && setProblem(problemOf(err)),
    );
    return () => {
      current = false;
    };
  }, [props.tenantId, props.snapshotId]);
  return html`<section class="panel" aria-labelledby="types-h">
    <h2 id="types-h">Object types</h2>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${!types && !problem && html`<p class="muted">Loading types…</p>`}
    <ul class="types">
      ${types?.map((t) =>
        t.status === 'captured'
          ? html`<li key=${t.type}>
              <button type="button" aria-pressed=${props.selected === t.type} onClick=${() => props.onSelect(t.type)}>
                ${t.label ?? t.type}
              </button>
              <span class="count">${t.count}</span>
              ${t.softDeleted ? html`<span class="muted"> (${t.softDeleted} in the recycle bin)</span>` : null}
            </li>`
          : html`<li key=${t.type}>
              ${t.label ?? t.type} <span class="badge badge-warn">Skipped</span>
              <span class="muted">${t.reason}${t.detail ? `: ${t.detail}` : ''}</span>
            </li>`,
      )}
    </ul>
  </section>`;
}

/** Objects of one type, searchable by prefix (id, name, UPN, mail, appId) and paged. */
export function ObjectList(props: {
  tenantId: string;
  snapshotId: string;
  type: string;
  selected?: string;
  onOpen: (id: string) => void;
}) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<ObjectPage | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  /** Objects chosen for one restore, by id with their names; kept across searches and pages of this type. */
  const [chosen, setChosen] = useState<Map<string, string>>(new Map());
  const toggle = (id: string, name: string) => {
    const next = new Map(chosen);
    if (next.has(id)) next.delete(id);
    else next.set(id, name);
    setChosen(next);
  };
  // The caller keys this list by snapshot and type, so a new choice starts with fresh search state.
  useEffect(() => {
    const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    if (query) q.set('search', query);
    setProblem(undefined);
    // Only the newest request may fill the list: a slow earlier page must not overwrite a search's answer.
    let current = true;
    api<ObjectPage>(
      'GET',
      `/tenants/${props.tenantId}/snapshots/${props.snapshotId}/types/${props.type}/objects?${q}`,
    ).then(
      (p) => current && setPage(p),
      (err) => current && setProblem(problemOf(err)),
    );
    return () => {
      current = false;
    };
  }, [props.tenantId, props.snapshotId, props.type, query, offset]);

  const shown = (o: ObjectPage['objects'][number]) =>
    Object.values(o.properties ?? {})
      .filter((v) => typeof v === 'string' && v !== o.displayName)
      .join(' · ');
  return html`<section class="panel" aria-labelledby="objects-h">
    <h2 id="objects-h">${props.type}</h2>
    <form
      role="search"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        setOffset(0);
        setQuery(search.trim());
      }}
    >
      <label for="object-search">Search ${props.type}</label>
      <input
        id="object-search"
        type="search"
        value=${search}
        placeholder="name, id, UPN or mail prefix"
        onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Search</button>
    </form>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${
      page &&
      html`<p class="muted" role="status">
          ${page.total} ${query ? `matching “${query}”` : 'objects'}
          ${page.total > 0 ? ` — ${page.offset + 1} to ${page.offset + page.objects.length}` : ''}
        </p>
        <ul class="objects">
          ${page.objects.map(
            (o) =>
              html`<li key=${o.id}>
                <input
                  type="checkbox"
                  aria-label=${`Choose ${o.displayName ?? o.id} for a restore`}
                  checked=${chosen.has(o.id)}
                  onChange=${() => toggle(o.id, o.displayName ?? o.id)}
                />
                <button type="button" aria-pressed=${props.selected === o.id} onClick=${() => props.onOpen(o.id)}>
                  ${o.displayName ?? o.id}
                </button>
                <span class="muted"> ${shown(o)}</span>
                ${o.state === 'in-recycle-bin' && html` <span class="badge badge-warn">In the recycle bin</span>`}
              </li>`,
          )}
        </ul>
        <nav aria-label="Object pages" class="pager">
          <button type="button" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>
            Previous objects
          </button>
          <button type="button" disabled=${offset + PAGE >= page.total} onClick=${() => setOffset(offset + PAGE)}>
            Next objects
          </button>
        </nav>`
    }
    ${
      chosen.size > 0 &&
      html`<div class="actions chosen">
        <span role="status">${chosen.size} chosen: ${[...chosen.values()].join(', ')}</span>
        <${RestoreButton}
          tenantId=${props.tenantId}
          snapshotId=${props.snapshotId}
          objects=${[...chosen.keys()].map((id) => ({ type: props.type, id }))}
          name=${chosen.size === 1 ? [...chosen.values()][0] : `${chosen.size} ${props.type}`}
          label=${`Restore ${chosen.size} chosen…`}
        />
        <button type="button" class="link" onClick=${() => setChosen(new Map())}>Clear the choice</button>
      </div>`
    }
  </section>`;
}
