import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { TokenProvider } from '../../activities/graph/token-provider';
import { loadConfig } from '../../temporal.config';

describe('token provider: an identity platform that never answers', () => {
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    // Accepts the connection and stays silent: not even the TLS handshake completes.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => server.close(r));
  });

  it('gives up after its timeout with a retryable error instead of holding the activity for ever', async () => {
    const { entra } = loadConfig({
      ENTRA_AUTHORITY_HOST: `127.0.0.1:${port}`,
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
