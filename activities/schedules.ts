import { isSpanContextValid, trace } from '@opentelemetry/api';
import { createHash, randomUUID } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import { TRACE_HEADER, headersWithContext } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { backupSchedule, type AppConfig } from '../temporal.config';
import { backupScheduleId, backupWorkflowIdPrefix, type BackupTarget } from '../tenants/types';
import { jobKindKey, organizationIdKey, resellerIdKey, tenantIdKey } from '../temporal/search-attributes';
import { withTemporalDeadline } from './temporal-calls';

const daySeconds = 86_400;

/**
 * When in the day a tenant's daily backup runs, as seconds after midnight UTC: derived from the tenant id, so it is
 * the same on every worker and every re-creation of the schedule, and tenants onboarded in one afternoon spread over
 * the whole day instead of all backing up in the same minutes.
 */
export function dailyBackupOffsetSeconds(tenantId: string): number {
  return createHash('sha256').update(tenantId).digest().readUInt32BE(0) % daySeconds;
}

/** The daily backup schedule of each tenant, as a real Temporal schedule (visible and controllable in the Web UI). */
export function createScheduleActivities(
  temporal: Client,
  config: AppConfig,
  options: { temporalCallTimeoutMs?: number } = {},
) {
  const bounded = <R>(fn: () => Promise<R>) => withTemporalDeadline(temporal, fn, options.temporalCallTimeoutMs);

  /**
   * The backup the schedule has going, if any. A run the schedule has just started shows in `recentActions` before
   * it shows in `runningActions` (seen under load: a second Backup now then started a second backup), so the
   * latest recent action's own status is asked as well.
   */
  const runningBackup = async (info: ScheduleDescription['info']): Promise<string | undefined> => {
    const listed = info.runningActions[0]?.workflow.workflowId;
    if (listed) return listed;
    const latest = [...info.recentActions].sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime()).at(-1)?.action
      .workflow.workflowId;
    if (!latest) return undefined;
    const { status } = await temporal.workflow.getHandle(latest).describe();
    return status.name === 'RUNNING' ? latest : undefined;
  };

  /**
   * Runs `trigger` with the schedule's start action carrying the current trace context, so the run it starts
   * continues this trace (Temporal copies an action's header into the runs a schedule starts; a trigger itself has no
   * headers). The header is taken off again once the run has started, else the daily runs would join this trace too.
   * Only when tracing is on. Best effort: the update names the schedule's conflict token, so a pause or another
   * change in between wins (Temporal ignores the stale update) and the run starts a trace of its own, as it would
   * without this; a failed schedule call is recorded on the span and never fails the Backup now.
   */
  const withTraceHeader = async <R>(handle: ScheduleHandle, trigger: () => Promise<R>): Promise<R> => {
    const span = trace.getActiveSpan()?.spanContext();
    if (!span || !isSpanContextValid(span)) return trigger();
    const ours = headersWithContext({})[TRACE_HEADER];
    const sameAsOurs = (p: { data?: Uint8Array | null } | undefined) =>
      !!p?.data && Buffer.from(p.data).equals(Buffer.from(ours.data ?? []));
    const updateHeader = async (on: boolean): Promise<boolean> => {
      const { raw } = await handle.describe();
      const action = raw.schedule?.action?.startWorkflow;
      if (!raw.schedule || !action) return false;
      const fields = { ...(action.header?.fields ?? {}) };
      if (on) fields[TRACE_HEADER] = ours;
      else if (sameAsOurs(fields[TRACE_HEADER])) delete fields[TRACE_HEADER];
      else return false; // not ours (any more): whoever set it takes it off
      await temporal.workflowService.updateSchedule({
        namespace: config.temporal.namespace,
        scheduleId: handle.scheduleId,
        schedule: { ...raw.schedule, action: { startWorkflow: { ...action, header: { fields } } } },
        conflictToken: raw.conflictToken,
        identity: temporal.options.identity,
        requestId: randomUUID(),
      });
      return true;
    };
    const setHeader = (on: boolean): Promise<boolean> =>
      updateHeader(on).catch((err: unknown) => {
        trace.getActiveSpan()?.recordException(err instanceof Error ? err : String(err));
        return false;
      });
    await setHeader(true);
    try {
      return await trigger();
    } finally {
      // Checked, as an update that lost to a concurrent change is dropped without an error.
      for (let i = 0; i < 5 && (await setHeader(false)); i++) await new Promise((r) => setTimeout(r, 200));
    }
  };

  return {
    /** Idempotent: an existing schedule is kept as it is. Every 24 hours, never two runs at once. */
    ensureBackupSchedule: (target: BackupTarget): Promise<{ scheduleId: string }> =>
      bounded(async () => {
        const scheduleId = backupScheduleId(target.tenantId);
        const { accessCheckAttempts, heartbeatTimeoutSeconds } = config.backup;
        // The backup workflow's BackupOptions (workflows/tenant-backup.ts), which this layer may not import.
        const options: { accessCheckRetry?: { maximumAttempts: number }; heartbeatTimeoutMs?: number } = {
          ...(accessCheckAttempts === undefined ? {} : { accessCheckRetry: { maximumAttempts: accessCheckAttempts } }),
          ...(heartbeatTimeoutSeconds === undefined ? {} : { heartbeatTimeoutMs: heartbeatTimeoutSeconds * 1000 }),
        };
        try {
          await temporal.schedule.create({
            scheduleId,
            spec: {
              intervals: [{ every: backupSchedule.every, offset: dailyBackupOffsetSeconds(target.tenantId) * 1000 }],
            },
            policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: backupSchedule.catchupWindow },
            action: {
              type: 'startWorkflow',
              workflowType: 'tenantBackupWorkflow',
              workflowId: backupWorkflowIdPrefix(target.tenantId),
              taskQueue: config.temporal.taskQueue,
              // Options only when configured: schedules stay as they were for everyone else.
              args: Object.keys(options).length === 0 ? [target] : [target, options],
              typedSearchAttributes: [
                { key: tenantIdKey, value: target.tenantId },
                { key: organizationIdKey, value: target.organizationId },
                { key: resellerIdKey, value: target.resellerId },
                { key: jobKindKey, value: 'backup' },
              ],
            },
            typedSearchAttributes: [
              { key: tenantIdKey, value: target.tenantId },
              { key: resellerIdKey, value: target.resellerId },
            ],
            memo: { note: 'Daily Entra backup' },
          });
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        }
        return { scheduleId };
      }),

    setBackupSchedulePaused: (input: { tenantId: string; paused: boolean; note: string }): Promise<void> =>
      bounded(async () => {
        const handle = temporal.schedule.getHandle(backupScheduleId(input.tenantId));
        try {
          const { state } = await handle.describe();
          if (state.paused === input.paused) return;
          await (input.paused ? handle.pause(input.note) : handle.unpause(input.note));
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }),

    /**
     * Backup now: the running backup when there is one, else a run started through the schedule (so it counts as
     * one of the schedule's runs and obeys its overlap policy).
     */
    triggerBackup: (input: { tenantId: string }): Promise<{ workflowId: string; alreadyRunning: boolean }> =>
      bounded(async () => {
        const handle = temporal.schedule.getHandle(backupScheduleId(input.tenantId));
        const { info } = await handle.describe();
        const running = await runningBackup(info);
        if (running) return { workflowId: running, alreadyRunning: true };
        const before = new Set(info.recentActions.map((a) => a.action.workflow.workflowId));
        return withTraceHeader(handle, async () => {
          // SKIP, as the schedule's own runs: the SDK's default for a trigger is ALLOW_ALL, which would start a second
          // backup beside one the schedule has started but not yet reported as running.
          await handle.trigger(ScheduleOverlapPolicy.SKIP);
          for (let i = 0; i < 100; i++) {
            const info = (await handle.describe()).info;
            const started = [
              ...info.runningActions.map((a) => a.workflow),
              ...info.recentActions.map((a) => a.action.workflow),
            ].find((w) => !before.has(w.workflowId));
            if (started) {
              trace.getActiveSpan()?.setAttribute('backup.workflow_id', started.workflowId);
              return { workflowId: started.workflowId, alreadyRunning: false };
            }
            // The trigger was skipped: a run the first describe did not show yet is going on.
            const other = await runningBackup(info);
            if (other) return { workflowId: other, alreadyRunning: true };
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error('the schedule did not start a backup within 10 seconds');
        });
      }),
  };
}
