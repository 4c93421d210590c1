/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Problem } from '../api';
import { duration, when } from '../format';
import { html } from '../html';
import type { Job } from '../types';
import { ProblemView } from './problem';

const POLL_MS = 2000;

const FAILED = ['failed', 'terminated', 'timed-out', 'cancelled', 'reauthorization-required', 'damaged'];

function jobError(job: Job): string | undefined {
  if (job.error ?? job.detail) return job.error ?? job.detail;
  if (job.reason && FAILED.includes(job.status)) return job.reason;
  if (job.temporalStatus === 'FAILED') return 'the job failed: its last error is in the Temporal Web UI';
  if (job.temporalStatus === 'TIMED_OUT') return 'the job ran out of time';
  if (job.temporalStatus === 'TERMINATED') return 'the job was stopped by an operator';
  if (job.temporalStatus === 'CANCELED') return 'the job was cancelled';
  return undefined;
}

/** Every running and recent job of the reseller (GET /jobs), polled so progress moves without a reload. */
export function SystemStatus(props: { webUi: { url: string; namespace: string } }) {
  const [jobs, setJobs] = useState<Job[] | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const r = await api<{ jobs: Job[] }>('GET', '/jobs?limit=50');
        if (!stopped) {
          setJobs(r.jobs);
          setProblem(undefined);
        }
      } catch (err) {
        if (!stopped)
          setProblem(err instanceof ApiError ? err.problem : { title: 'Jobs could not be loaded', status: 0 });
      }
    };
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const workflowLink = (id: string) =>
    props.webUi.url
      ? `${props.webUi.url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(props.webUi.namespace)}/workflows/${encodeURIComponent(id)}`
      : undefined;

  return html`<main id="main">
    <h1>System Status</h1>
    ${problem && html`<${ProblemView} problem=${problem} />`} ${jobs && jobs.length === 0 && html`<p>No jobs yet.</p>`}
    ${
      jobs &&
      jobs.length > 0 &&
      html`<ul class="jobs">
        ${jobs.map((job) => {
          const p = job.progress;
          const error = jobError(job);
          const link = workflowLink(job.workflowId);
          return html`<li class="job" key=${job.workflowId} data-workflow-id=${job.workflowId}>
            <div class="job-head">
              <strong>${job.kind ?? 'job'}</strong>
              <span class=${`result result-${job.status}`}>${job.status}</span>
              <span class="muted"
                >started ${when(job.startedAt)}${job.closedAt ? `, ended ${when(job.closedAt)}` : ''}</span
              >
            </div>
            ${job.tenantId && html`<div class="muted">tenant ${job.tenantId}</div>`}
            ${
              p &&
              html`<label class="progress-label">
                  ${p.typesDone} of ${p.typesTotal} object types
                  <progress max=${p.typesTotal || 1} value=${p.typesDone}></progress>
                </label>
                <div class="counts">
                  ${
                    `${p.objectsRead.toLocaleString()} objects read · ${p.requests.toLocaleString()} Graph requests · ` +
                    `${p.throttled} throttled (${duration(p.throttleWaitMs)} waited)` +
                    (p.running.length ? ` · now: ${p.running.join(', ')}` : '')
                  }
                </div>
                ${
                  p.skipped.length > 0 &&
                  html`<ul class="skipped">
                    ${p.skipped.map((s) => html`<li>${s.type}: ${s.detail ?? s.reason}</li>`)}
                  </ul>`
                }`
            }
            ${error && html`<p class="error-text">${error}</p>`} ${!error && job.reason && html`<p>${job.reason}</p>`}
            ${job.expiresAt && html`<p class="muted">The consent request expires ${when(job.expiresAt)}.</p>`}
            ${link && html`<a href=${link} target="_blank" rel="noopener noreferrer">Open in Temporal Web UI</a>`}
          </li>`;
        })}
      </ul>`
    }
  </main>`;
}
