/// <reference lib="dom" />
import { html } from '../html';
import { when } from '../format';
import type { LastBackup, TenantItem } from '../types';

const statusLabel: Record<TenantItem['status'], string> = {
  active: 'Active',
  'awaiting-consent': 'Awaiting consent',
  'reauthorization-required': 'Reauthorization required',
};

export const StatusBadge = (props: { status: TenantItem['status'] }) =>
  html`<span class=${`badge badge-${props.status}`}>${statusLabel[props.status]}</span>`;

const restoreLabel = { none: 'none', permanent: 'permanent', 'one-time': 'per restore' } as const;

export const restoreAppText = (t: TenantItem) =>
  t.restoreApp.state === 'granted'
    ? restoreLabel[t.restoreApp.mode]
    : t.restoreApp.state === 'pending'
      ? 'pending consent'
      : 'none';

export function LastBackupView(props: { last?: LastBackup }) {
  const last = props.last;
  if (!last) return html`<span class="muted">no backup yet</span>`;
  const label = { running: 'running', completed: 'complete', incomplete: 'incomplete', failed: 'failed' }[last.status];
  return html`<span class=${`result result-${last.status}`}>${label}</span>
    <span class="when">${when(last.at)}</span>
    ${
      last.status === 'incomplete' && last.skippedTypes?.length
        ? html`<span class="detail">skipped: ${last.skippedTypes.join(', ')}</span>`
        : null
    }
    ${last.status === 'failed' && last.detail ? html`<span class="detail">${last.detail}</span>` : null}`;
}
