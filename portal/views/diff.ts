/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api';
import type { AttributeChange, RelatedRef, SnapshotDiff, SnapshotSummary } from '../detail-types';
import { html } from '../html';
import { snapshotLabel } from './browse';
import { ProblemView } from './problem';

const value = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
const named = (refs: RelatedRef[]) => refs.map((r) => r.displayName ?? r.id).join(', ');

function Attribute(props: { change: AttributeChange }) {
  const c = props.change;
  return c.kind === 'value'
    ? html`<li><code>${c.path}</code>: ${value(c.old)} → ${value(c.new)}</li>`
    : html`<li>
        <code>${c.path}</code>: ${c.added.length ? `added ${c.added.map(value).join(', ')}` : ''}
        ${c.removed.length ? `removed ${c.removed.map(value).join(', ')}` : ''}
      </li>`;
}

/** What changed between any two snapshots: the whole tenant, or one object when one is open. */
export function DiffView(props: {
  tenantId: string;
  snapshots: SnapshotSummary[];
  object?: { type: string; id: string };
  ask?: { from: string; to: string; n: number };
}) {
  const [from, setFrom] = useState(props.snapshots[1]?.id ?? props.snapshots[0]?.id ?? '');
  const [to, setTo] = useState(props.snapshots[0]?.id ?? '');
  const [onlyObject, setOnlyObject] = useState(false);
  const [diff, setDiff] = useState<SnapshotDiff | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [asked, setAsked] = useState('');

  async function compare(f = from, t = to, object = onlyObject ? props.object : undefined) {
    setProblem(undefined);
    setDiff(undefined);
    const q = new URLSearchParams({ from: f, to: t });
    if (object) {
      q.set('type', object.type);
      q.set('objectId', object.id);
    }
    try {
      setDiff(await api<SnapshotDiff>('GET', `/tenants/${props.tenantId}/diff?${q}`));
      q.set('format', 'text');
      setAsked(`/tenants/${props.tenantId}/diff?${q}`);
    } catch (err) {
      setProblem(problemOf(err));
    }
  }

  useEffect(() => {
    if (!props.ask) return;
    setFrom(props.ask.from);
    setTo(props.ask.to);
    setOnlyObject(true);
    void compare(props.ask.from, props.ask.to, props.object);
    document.getElementById('diff-h')?.scrollIntoView();
  }, [props.ask?.n]);

  const types = diff?.types.filter(
    (t) => !t.comparable || t.added.length || t.removed.length || t.restored.length || t.changed.length,
  );
  const select = (id: string, label: string, v: string, set: (v: string) => void) =>
    html`<label for=${id}>${label}</label>
      <select id=${id} value=${v} onChange=${(e: Event) => set((e.target as HTMLSelectElement).value)}>
        ${props.snapshots.map((s) => html`<option key=${s.id} value=${s.id}>${snapshotLabel(s)}</option>`)}
      </select>`;
  return html`<section class="panel" aria-labelledby="diff-h">
    <h2 id="diff-h">Compare snapshots</h2>
    <form
      class="diff-form"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        void compare();
      }}
    >
      ${select('diff-from', 'From (older)', from, setFrom)} ${select('diff-to', 'To (newer)', to, setTo)}
      ${
        props.object &&
        html`<label
          ><input
            type="checkbox"
            checked=${onlyObject}
            onChange=${(e: Event) => setOnlyObject((e.target as HTMLInputElement).checked)}
          />
          Only the open object</label
        >`
      }
      <button type="submit">Compare</button>
    </form>
    ${problem && html`<${ProblemView} problem=${problem} />`}
    ${
      diff &&
      html`<div class="diff" role="region" aria-label="Differences">
        <p><a href=${asked} target="_blank" rel="noopener">The same difference as plain text</a></p>
        ${types?.length === 0 && html`<p>No change between these two snapshots.</p>`}
        ${types?.map(
          (t) =>
            html`<section key=${t.type}>
              <h3>${t.type}</h3>
              ${!t.comparable && html`<p class="warning">Not comparable: ${t.reason}</p>`}
              <ul>
                ${t.added.map((o) => html`<li key=${'a' + o.id} class="added">Added: ${o.displayName ?? o.id}</li>`)}
                ${t.removed.map(
                  (o) =>
                    html`<li key=${'r' + o.id} class="removed">
                      ${o.deletion === 'soft' ? 'Moved to the recycle bin' : 'Deleted'}: ${o.displayName ?? o.id}
                    </li>`,
                )}
                ${t.restored.map(
                  (o) =>
                    html`<li key=${'s' + o.id} class="added">
                      Restored from the recycle bin: ${o.displayName ?? o.id}
                    </li>`,
                )}
                ${t.changed.map(
                  (o) =>
                    html`<li key=${'c' + o.id} class="changed">
                      Changed: ${o.displayName ?? o.id}
                      <ul>
                        ${o.attributes.map((c) => html`<${Attribute} key=${c.path} change=${c} />`)}
                        ${o.relationships.map(
                          (r) =>
                            html`<li key=${r.relationship}>
                              ${r.relationship}: ${r.added.length ? `added ${named(r.added)}` : ''}
                              ${r.removed.length ? ` removed ${named(r.removed)}` : ''}
                              ${r.changed.length ? ` changed ${named(r.changed)}` : ''}
                            </li>`,
                        )}
                      </ul>
                    </li>`,
                )}
              </ul>
            </section>`,
        )}
      </div>`
    }
  </section>`;
}
