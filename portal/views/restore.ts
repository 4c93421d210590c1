/// <reference lib="dom" />
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api';
import type { PlannedObject, RestoreState } from '../detail-types';
import { when } from '../format';
import { html } from '../html';
import { poll } from '../poll';
import { ProblemView } from './problem';

const ENDED = ['completed', 'partly-completed', 'failed', 'expired', 'refused', 'cancelled'];
/** Before the confirmation nothing is written: Cancel ends the restore there (the API refuses it later). */
const BEFORE_CONFIRMATION = ['planning', 'awaiting-consent', 'awaiting-confirmation'];
const WAITING = ['awaiting-confirmation', 'awaiting-consent', ...ENDED];

const actions: Record<PlannedObject['action'], string> = {
  unchanged: 'Nothing to change: the live object matches the snapshot',
  update: 'Update the live object',
  'restore-from-recycle-bin': 'Restore from the recycle bin (same id)',
  recreate: 'Re-create: the object is gone for good; it gets a new id',
  impossible: 'Cannot be restored',
};

const show = (v: unknown) => (v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function Plan(props: { state: RestoreState }) {
  const plan = props.state.planDetail;
  if (!plan) return html`<p class="muted">Reading the plan…</p>`;
  return html`${plan.objects.map(
    (o) =>
      html`<section class="plan-object" key=${o.id}>
        <h3>${o.displayName ?? o.id} <span class="muted">(${o.type})</span></h3>
        <p><strong>${actions[o.action]}</strong>${o.reason ? ` — ${o.reason}` : ''}</p>
        ${o.action === 'recreate' && html`<p>Id <code>${o.id}</code> will be re-created under a new id.</p>`}
        ${
          o.attributes.length > 0 &&
          html`<table>
            <caption>
              Attributes written back
            </caption>
            <thead>
              <tr>
                <th scope="col">Attribute</th>
                <th scope="col">Now</th>
                <th scope="col">After the restore</th>
              </tr>
            </thead>
            <tbody>
              ${o.attributes.map(
                (a) =>
                  html`<tr key=${a.name}>
                    <th scope="row">${a.name}</th>
                    <td>${show(a.current)}</td>
                    <td>${show(a.restored)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        }
        ${o.relationships
          .filter((r) => r.add.length || r.remove.length || r.missing.length)
          .map(
            (r) =>
              html`<p key=${r.name}>
                ${r.name}: ${r.add.length} to add, ${r.remove.length} to remove
                ${r.missing.length ? `, ${r.missing.length} gone and not restorable` : ''}
              </p>`,
          )}
        ${
          o.secretsToReissue?.length &&
          html`<p class="warning">Secrets to issue again after the restore: ${o.secretsToReissue.join(', ')}</p>`
        }
      </section>`,
  )}
  ${
    (plan.roleAssignments?.length ?? 0) > 0 &&
    html`<p>
      Directory role assignments: ${plan.roleAssignments!.filter((a) => a.action === 'create').length} to add,
      ${plan.roleAssignments!.filter((a) => a.action === 'remove').length} to remove (principals and administrative-unit
      scopes by their new ids where re-created)
    </p>`
  }
  ${
    (plan.scopedRoleMembers?.length ?? 0) > 0 &&
    html`<p>
      Scoped role members of administrative units:
      ${plan.scopedRoleMembers!.filter((a) => a.action === 'create').length} to add,
      ${plan.scopedRoleMembers!.filter((a) => a.action === 'remove').length} to remove
    </p>`
  }
  ${
    plan.remaps.length > 0 &&
    html`<p>
      Live objects whose references to re-created ids are rewritten:
      ${plan.remaps.map((r) => r.displayName ?? r.id).join(', ')}
    </p>`
  }`;
}

function Report(props: { state: RestoreState }) {
  const r = props.state.reportDetail;
  if (!r) return null;
  return html`<section aria-label="Verification report">
    <h3>Verification report</h3>
    <p>${r.fidelity.restored} of ${r.fidelity.restorable} restorable properties read back as captured.</p>
    <ul>
      ${r.objects.map(
        (o) =>
          html`<li key=${o.id}>
            ${o.displayName ?? o.id}: <strong>${o.outcome}</strong>
            ${o.liveId && o.liveId !== o.id ? ` — new id ${o.liveId}` : ''} ${o.error ?? ''}
            ${
              o.differences?.length &&
              html`<ul>
                ${o.differences.map((d) => html`<li key=${d.name}>${d.name}: ${d.why}</li>`)}
              </ul>`
            }
          </li>`,
      )}
    </ul>
    ${
      Object.keys(r.idMapping).length > 0 &&
      html`<p>
        Re-created ids:
        ${Object.entries(r.idMapping)
          .map(([a, b]) => `${a} → ${b}`)
          .join(', ')}
      </p>`
    }
    ${
      r.secretsToReissue.length > 0 &&
      html`<p class="warning">
        Issue these secrets again:
        ${r.secretsToReissue.map((s) => `${s.displayName ?? s.id}: ${s.secrets.join(', ')}`).join('; ')}
      </p>`
    }
    ${
      r.temporaryPasswordUsers.length > 0 &&
      html`<p class="warning">
        ${r.temporaryPasswordUsers.length} re-created user(s) got a temporary password and must set a new one at next
        sign-in.
      </p>`
    }
  </section>`;
}

/**
 * Restore one object: POST /restores plans against the live tenant (nothing is written), the plan shows in a modal
 * dialog, Confirm sends the plan's hash, then the dialog follows the restore to its read-back report. Cancel (or
 * Escape) before the confirmation cancels the restore through the API, so it ends as cancelled at once instead of
 * holding the tenant's one restore until its plan expires; asked while still planning, it cancels the plan as soon as
 * the plan is ready.
 */
export function RestoreButton(props: {
  tenantId: string;
  snapshotId: string;
  /** One restore plan for all of them (the API applies them in dependency order). */
  objects: { type: string; id: string }[];
  /** What the dialog's title names: the object, or "3 objects". */
  name: string;
  label?: string;
  disabled?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  // Unique per dialog: the sidebar's restore and the chosen objects' restore can both be on the page.
  const headingId = useId();
  const opener = useRef<HTMLButtonElement>(null);
  const [state, setState] = useState<RestoreState | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const cancelWanted = useRef(false);
  const stop = useRef<(() => void) | undefined>(undefined);
  useEffect(() => () => stop.current?.(), []);

  const follow = (restoreId: string, until: string[]) => {
    stop.current?.();
    stop.current = poll(
      () => api<RestoreState>('GET', `/tenants/${props.tenantId}/restores/${restoreId}`),
      (s) => until.includes(s.status),
      (s) => {
        setState(s);
        if (cancelWanted.current && s.status === 'awaiting-confirmation') void cancelRestore(s);
      },
      (err) => setProblem(problemOf(err)),
    );
  };

  async function open() {
    setState(undefined);
    setProblem(undefined);
    setCancelling(false);
    cancelWanted.current = false;
    dialog.current?.showModal();
    try {
      const started = await api<RestoreState>('POST', `/tenants/${props.tenantId}/restores`, {
        snapshotId: props.snapshotId,
        objects: props.objects,
      });
      setState(started);
      if (cancelWanted.current && started.status === 'awaiting-confirmation') await cancelRestore(started);
      else follow(started.restoreId, WAITING);
    } catch (err) {
      setProblem(problemOf(err));
    }
  }

  async function confirm() {
    if (!state?.plan) return;
    setProblem(undefined);
    try {
      setState(
        await api<RestoreState>('POST', `/tenants/${props.tenantId}/restores/${state.restoreId}/confirmation`, {
          planHash: state.plan.hash,
        }),
      );
      follow(state.restoreId, ENDED);
    } catch (err) {
      setProblem(problemOf(err));
    }
  }

  async function cancelRestore(current: RestoreState) {
    cancelWanted.current = false;
    stop.current?.();
    setProblem(undefined);
    try {
      setState(
        await api<RestoreState>('POST', `/tenants/${props.tenantId}/restores/${current.restoreId}/cancellation`),
      );
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setCancelling(false);
    }
  }

  /** Cancel / Escape: a restore not yet confirmed is cancelled (and the dialog says so); otherwise the dialog closes. */
  function cancelOrClose() {
    const status = state?.status;
    if (!problem && (!status || BEFORE_CONFIRMATION.includes(status))) {
      setCancelling(true);
      if (state && status === 'awaiting-confirmation') void cancelRestore(state);
      // Still planning (or waiting for consent): the poll cancels the plan when it is ready.
      else cancelWanted.current = true;
      return;
    }
    close();
  }

  function close() {
    stop.current?.();
    dialog.current?.close();
  }

  const status = state?.status;
  const planning = !status || status === 'planning';
  return html`<button type="button" ref=${opener} onClick=${open} disabled=${props.disabled}>
      ${props.label ?? 'Restore this object…'}
    </button>
    <dialog
      ref=${dialog}
      class="restore-dialog"
      aria-labelledby=${headingId}
      onCancel=${(e: Event) => {
        e.preventDefault();
        cancelOrClose();
      }}
      onClose=${() => {
        stop.current?.();
        opener.current?.focus();
      }}
    >
      <h2 id=${headingId}>Restore ${props.name}</h2>
      <p class="muted">As captured in snapshot ${props.snapshotId.slice(0, 12)}…</p>
      ${problem && html`<${ProblemView} problem=${problem} />`}
      <div role="status" aria-live="polite">
        ${cancelling && html`<p>Cancelling the restore; nothing is written…</p>`}
        ${planning && !cancelling && !problem && html`<p>Planning against the live tenant; nothing is written yet…</p>`}
        ${status === 'applying' && html`<p>Restoring: writing to the tenant…</p>`}
        ${status === 'verifying' && html`<p>Reading the restored object back to verify it…</p>`}
        ${
          status &&
          ENDED.includes(status) &&
          html`<p><strong>Restore ${status}</strong>${state?.detail ? `: ${state.detail}` : ''}</p>`
        }
      </div>
      ${
        status === 'awaiting-consent' &&
        html`<p>
          This tenant's Restore app needs a one-time consent:
          <a href=${state?.consent.consentUrl} target="_blank" rel="noopener">Grant it with Microsoft</a>; the plan
          follows.
        </p>`
      }
      ${status === 'awaiting-confirmation' && state && html`<${Plan} state=${state} />`}
      ${
        status === 'awaiting-confirmation' &&
        state?.plan?.expiresAt &&
        html`<p class="muted">Confirm before ${when(state.plan.expiresAt)}, or the plan expires.</p>`
      }
      ${state && html`<${Report} state=${state} />`}
      <div class="dialog-actions">
        ${
          status === 'awaiting-confirmation' &&
          !cancelling &&
          html`<button type="button" class="primary" onClick=${confirm}>Confirm restore</button>`
        }
        <button type="button" onClick=${cancelOrClose} disabled=${cancelling}>
          ${(status && ENDED.includes(status)) || problem ? 'Close' : 'Cancel'}
        </button>
      </div>
    </dialog>`;
}
