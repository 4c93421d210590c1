/// <reference lib="dom" />
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf, type Problem } from '../api';
import type { ExportJob } from '../detail-types';
import { when } from '../format';
import { html } from '../html';
import { poll } from '../poll';
import { ProblemView } from './problem';

export interface ExportRequest {
  level: 'tenant' | 'type' | 'object';
  snapshotId: string;
  type?: string;
  objectId?: string;
}

/**
 * A Download button for one level: starts the export job (POST /tenants/{id}/exports), shows it building, then the
 * signed link and when it expires, in the browser's time zone.
 */
export function DownloadButton(props: { tenantId: string; request: ExportRequest; label: string }) {
  const [job, setJob] = useState<ExportJob | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const stop = useRef<(() => void) | undefined>(undefined);
  useEffect(() => () => stop.current?.(), []);
  useEffect(() => {
    stop.current?.();
    setJob(undefined);
    setProblem(undefined);
  }, [props.tenantId, props.request.level, props.request.snapshotId, props.request.type, props.request.objectId]);

  async function start() {
    setProblem(undefined);
    stop.current?.();
    try {
      const started = await api<ExportJob>('POST', `/tenants/${props.tenantId}/exports`, props.request);
      setJob(started);
      stop.current = poll(
        () => api<ExportJob>('GET', `/tenants/${props.tenantId}/exports/${started.jobId}`),
        (j) => j.status !== 'building',
        (j) => setJob({ ...j, expiresAt: j.expiresAt ?? started.expiresAt }),
        (err) => setProblem(problemOf(err)),
      );
    } catch (err) {
      setProblem(problemOf(err));
    }
  }

  const building = job?.status === 'building';
  return html`<div class="download">
    <button type="button" onClick=${start} disabled=${building}>${props.label}</button>
    <span role="status" aria-live="polite">
      ${building && html` Building the zip… ${job.progress?.objects ?? 0} objects written`}
      ${
        job?.status === 'completed' &&
        html` <a href=${job.url} download>Download zip</a> (${job.objects ?? 0} objects) · link expires
          <time datetime=${job.expiresAt}>${when(job.expiresAt)}</time>`
      }
      ${job?.status === 'expired' && html` The link expired ${when(job.expiresAt)}.`}
      ${job?.status === 'failed' && html` The export failed: ${job.error}`}
    </span>
    ${problem && html`<${ProblemView} problem=${problem} />`}
  </div>`;
}
