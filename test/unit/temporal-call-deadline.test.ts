import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createScheduleActivities } from '../../activities/schedules';
import { withTemporalDeadline } from '../../activities/temporal-calls';
import { loadConfig } from '../../temporal.config';
import { startSilentServer, type SilentServer } from '../helpers/silent-server';

describe('Temporal calls inside activities: a server that never answers', () => {
  let server: SilentServer;
  let connection: Connection;

  before(async () => {
    server = await startSilentServer();
    connection = Connection.lazy({ address: `127.0.0.1:${server.port}` });
  });

  after(async () => {
    await connection?.close();
    await server?.close();
  });

  it('fails each schedule activity at its deadline instead of holding the activity slot', async () => {
    const client = new Client({ connection });
    const activities = createScheduleActivities(client, loadConfig({}), { temporalCallTimeoutMs: 400 });
    const calls: [string, () => Promise<unknown>][] = [
      ['setBackupSchedulePaused', () => activities.setBackupSchedulePaused({ tenantId: 't', paused: true, note: '' })],
      ['triggerBackup', () => activities.triggerBackup({ tenantId: 't' })],
    ];
    for (const [name, call] of calls) {
      const started = Date.now();
      await assert.rejects(call(), (err: Error & { code?: number }) => {
        assert.match(`${err.message} ${String(err.cause ?? '')}`, /deadline/i, name);
        return true;
      });
      assert.ok(Date.now() - started < 5_000, `${name} took ${Date.now() - started} ms`);
    }
  });

  it("leaves no listener on the activity's cancellation signal after its calls (no MaxListenersExceededWarning)", async () => {
    const client = new Client({ connection });
    const env = new MockActivityEnvironment();
    const signal = env.context.cancellationSignal;
    const before = getEventListeners(signal, 'abort').length;
    // More calls than Node's warning threshold (10 listeners), as an export's progress signals make.
    for (let i = 0; i < 12; i++) {
      await env.run(() =>
        withTemporalDeadline(client, () => client.workflow.getHandle('w').describe(), 100).catch(() => undefined),
      );
    }
    assert.equal(getEventListeners(signal, 'abort').length, before);
  });

  it('still cancels a call in flight when the activity is cancelled', async () => {
    const client = new Client({ connection });
    const env = new MockActivityEnvironment();
    const started = Date.now();
    const call = env.run(() => withTemporalDeadline(client, () => client.workflow.getHandle('w').describe(), 30_000));
    setTimeout(() => env.cancel(), 200);
    await assert.rejects(call, (err: Error) => {
      assert.match(`${err.message} ${String(err.cause ?? '')}`, /cancel/i);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `cancelled after ${Date.now() - started} ms, not at the 30 s deadline`);
  });
});
