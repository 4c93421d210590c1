import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { TokenProvider } from '../../activities/graph/token-provider';
import { loadConfig } from '../../temporal.config';
import { startSilentServer, type SilentServer } from '../helpers/silent-server';

describe('token provider: an identity platform that never answers', () => {
  let server: SilentServer;

  before(async () => {
    server = await startSilentServer();
  });

  after(() => server?.close());

  it('gives up after its timeout with a retryable error instead of holding the activity for ever', async () => {
    const { entra } = loadConfig({
      ENTRA_AUTHORITY_HOST: `127.0.0.1:${server.port}`,
      ENTRA_BACKUP_APP_CLIENT_ID: '0f3c1f47-7a57-4e50-9a5c-1c1d3f5b0b01',
      ENTRA_BACKUP_APP_CLIENT_SECRET: 'secret',
    });
    const tokens = new TokenProvider(entra, 300);
    const started = Date.now();
    await assert.rejects(tokens.acquire('backup', '7d3f1a52-0000-4000-8000-000000000001'), (err: Error) => {
      assert.ok(!(err instanceof ApplicationFailure), 'a plain error: Temporal retries the activity');
      assert.match(err.message, /did not answer within 300 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
  });
});
