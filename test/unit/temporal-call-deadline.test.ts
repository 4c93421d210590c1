import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { createScheduleActivities } from '../../activities/schedules';
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
});
