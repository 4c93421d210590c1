/// <reference lib="dom" />
import type { Problem } from '../api';
import { html } from '../html';

/** An API error as the API worded it: problem+json title, detail and the fields at fault. */
export function ProblemView(props: { problem: Problem }) {
  const p = props.problem;
  return html`<div class="problem" role="alert">
    <strong>${p.title}</strong>
    ${p.detail && html`<p>${p.detail}</p>`}
    ${
      p.errors?.length
        ? html`<ul>
            ${p.errors.map((e) => html`<li>${e.field}: ${e.message}</li>`)}
          </ul>`
        : null
    }
  </div>`;
}
