import { setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { jobStatusKey } from '../temporal/search-attributes';
import { backupProgressQuery, type BackupProgress, type BackupStatus } from './tenant-backup-messages';

type TypeCapture = Awaited<ReturnType<Activities['captureType']>>;

/**
 * The progress bookkeeping of one backup, kept out of the workflow's steps: what the backupProgress query answers,
 * and the JobStatus search attribute (plus, when the run fails, the reason in the memo) System Status lists.
 */
export class BackupProgressBook {
  readonly progress: BackupProgress;

  constructor(tenantId: string) {
    this.progress = {
      tenantId,
      status: 'checking-access',
      startedAt: new Date().toISOString(),
      typesTotal: 0,
      typesDone: 0,
      running: [],
      objectsRead: 0,
      requests: 0,
      resourceUnits: 0,
      throttled: 0,
      throttleWaitMs: 0,
      graphMs: 0,
      captureMs: 0,
      storageMs: 0,
      skipped: [],
      types: {},
    };
    setHandler(backupProgressQuery, () => this.progress);
  }

  publish(status: BackupStatus, failure?: string): void {
    this.progress.status = status;
    if (failure !== undefined) {
      this.progress.failure = failure;
      upsertMemo({ reason: failure });
    }
    upsertSearchAttributes([{ key: jobStatusKey, value: status }]);
  }

  planned(types: readonly string[]): void {
    this.progress.typesTotal = types.length;
  }

  /** Marks a type as being captured; returns what to call when its capture ends, however it ends. */
  typeStarted(type: string): { captured(capture: TypeCapture): void; failed(detail: string): void; done(): void } {
    const p = this.progress;
    const began = Date.now();
    p.running.push(type);
    return {
      captured: (capture) => {
        p.captureMs += Date.now() - began;
        p.graphMs += capture.graph.graphMs;
        p.requests += capture.graph.requests;
        p.resourceUnits += capture.graph.resourceUnits;
        p.throttled += capture.graph.throttled;
        p.throttleWaitMs += capture.graph.throttleWaitMs;
        if (capture.status !== 'captured') {
          p.skipped.push({ type, reason: capture.reason, detail: capture.detail });
          return;
        }
        p.objectsRead += capture.objectsRead;
        p.storageMs += capture.storageMs;
        p.types[type] = {
          readMode: capture.readMode,
          objectsRead: capture.objectsRead,
          startedAfterSeconds: (began - Date.parse(p.startedAt)) / 1000,
          seconds: (Date.now() - began) / 1000,
          resourceUnits: capture.graph.resourceUnits,
          bytesStored: capture.bytesWritten,
          throttleWaitSeconds: capture.graph.throttleWaitMs / 1000,
          graphSeconds: capture.graph.graphMs / 1000,
          storageSeconds: capture.storageMs / 1000,
          ...(capture.partitions !== undefined ? { partitions: capture.partitions } : {}),
        };
      },
      failed: (detail) => void p.skipped.push({ type, reason: 'graph-error', detail }),
      done: () => {
        p.running = p.running.filter((t) => t !== type);
        p.typesDone++;
      },
    };
  }
}
