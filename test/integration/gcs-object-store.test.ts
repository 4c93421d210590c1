import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { canonicalBytes } from '../../storage/canonical-json';
import { GcsObjectStore } from '../../storage/gcs-object-store';
import { createStorageClient } from '../../storage/gcs-client';
import { freePort } from '../../devstack/ports';
import { startSilentServer, type SilentServer } from '../helpers/silent-server';
import { MasterKey, WrongMasterKeyError } from '../../storage/data-keys';
import { Repository } from '../../storage/repository';

const BINARY = path.resolve(__dirname, '../../.local/bin/fake-gcs-server');

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`fake-gcs-server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fake-gcs-server not healthy at ${url} after ${timeoutMs} ms`);
}

describe('storage: GcsObjectStore against fake-gcs-server', function () {
  let child: ChildProcess | undefined;
  let storage: Storage;

  before(async function () {
    if (!existsSync(BINARY)) {
      console.warn(`SKIPPED: ${BINARY} is absent (npm run setup builds it)`);
      this.skip();
    }
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    child = spawn(
      BINARY,
      [
        '-host',
        '127.0.0.1',
        '-port',
        String(port),
        '-scheme',
        'http',
        '-backend',
        'memory',
        '-public-host',
        `127.0.0.1:${port}`,
        '-external-url',
        endpoint,
        '-log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await waitHealthy(`${endpoint}/_internal/healthcheck`, child);
    // A custom apiEndpoint is used without authentication by default, so no credentials are needed.
    storage = new Storage({ apiEndpoint: endpoint, projectId: 'test' });
  });

  after(() => {
    child?.kill('SIGTERM');
  });

  it('does create-only writes, ranged reads, listing and deletes', async () => {
    const [bucket] = await storage.createBucket('objects');
    const store = new GcsObjectStore(bucket, 'tenants/t1');
    assert.equal(await store.put('a/one', Buffer.from('0123456789'), { ifGenerationMatch0: true }), 'written');
    assert.equal(await store.put('a/one', Buffer.from('other'), { ifGenerationMatch0: true }), 'exists');
    assert.equal((await store.get('a/one'))?.toString(), '0123456789', 'create-only did not overwrite');
    assert.equal((await store.getRange('a/one', 3, 7)).toString(), '3456');
    assert.equal(await store.get('a/missing'), undefined);
    assert.equal(await store.exists('a/one'), true);
    await store.put('a/two', Buffer.from('x'));
    await store.put('b/three', Buffer.from('y'));
    const listed = [];
    for await (const info of store.list('a/')) listed.push(info);
    assert.deepEqual(
      listed.map((i) => [i.key, i.size]),
      [
        ['a/one', 10],
        ['a/two', 1],
      ],
    );
    assert.ok(listed[0].updated.getTime() > Date.now() - 60_000);
    const [raw] = await bucket.getFiles({ prefix: 'tenants/t1/' });
    assert.equal(raw.length, 3, 'keys live under the tenant prefix');
    await store.delete('a/one');
    await store.delete('a/one');
    assert.equal(await store.exists('a/one'), false);
  });

  it('round-trips a repository through GCS', async () => {
    const [bucket] = await storage.createBucket('backups');
    const store = new GcsObjectStore(bucket, 'tenant-a/');
    const master = MasterKey.generate();
    const repo = await Repository.open(store, master, { packTargetSize: 32 * 1024 });
    const users = Array.from({ length: 300 }, (_, i) => ({
      id: `u${i}`,
      displayName: `User ${i}`,
      pad: 'p'.repeat(i),
    }));
    const w = await repo.startSnapshot('tenant-a');
    for (const u of users) await w.addObject('users', u.id, u.displayName, u);
    await w.addObject(
      'groups',
      'g1',
      'G1',
      { id: 'g1' },
      { relationships: { members: users.map((u) => ({ id: u.id })) } },
    );
    const { id } = await w.commit();

    const reopened = await Repository.open(store, master);
    assert.deepEqual(
      (await reopened.listSnapshots()).map((s) => s.id),
      [id],
    );
    const entries = await reopened.listEntries(id, 'users');
    assert.equal(entries.length, 300);
    const e = entries.find((x) => x.id === 'u123');
    assert.ok(e);
    assert.deepEqual(await reopened.readObjectBytes(e.contentHash), canonicalBytes(users[123]));
    let count = 0;
    for await (const item of reopened.readType(id, 'users')) {
      assert.equal((item.object as { id: string }).id, item.entry.id);
      count++;
    }
    assert.equal(count, 300);
    const [group] = await reopened.listEntries(id, 'groups');
    assert.equal((await reopened.readRelationship(group.rels!.members)).length, 300);
    const check = await reopened.check();
    assert.equal(check.ok, true, check.errors.join('\n'));
    await assert.rejects(Repository.open(store, MasterKey.generate()), WrongMasterKeyError);
  });
});

/** A tenant's store as the product builds it, against a server that misbehaves, with a short request timeout. */
function storeAt(endpoint: string, requestTimeoutMs: number): GcsObjectStore {
  const storage = createStorageClient({
    apiEndpoint: endpoint,
    projectId: 'test',
    defaultBucket: 'b',
    masterKey: Buffer.alloc(32).toString('base64'),
    requestTimeoutMs,
  });
  return new GcsObjectStore(storage.bucket('b'), 'tenant');
}

describe('storage: a storage server that accepts a request and never answers', function () {
  this.timeout(30_000);
  let server: SilentServer;
  let endpoint: string;

  before(async () => {
    server = await startSilentServer();
    endpoint = `http://127.0.0.1:${server.port}`;
  });

  after(() => server?.close());

  it('fails reads and writes after the configured timeout instead of hanging the activity', async () => {
    const store = storeAt(endpoint, 300);
    const started = Date.now();
    await assert.rejects(store.put('pack', Buffer.from('x')));
    await assert.rejects(store.get('index'));
    // The library retries a timed-out write a few times with backoff (about 8 s in all); unbounded without a timeout.
    assert.ok(Date.now() - started < 25_000, `${Date.now() - started} ms`);
  });
});

describe('storage: a download whose body never arrives', function () {
  this.timeout(30_000);
  let server: Server;
  const sockets = new Set<Socket>();

  before(async () => {
    // What the emulator did when an object was deleted while it was being read: the answer's headers promise a body
    // that never comes, and the connection stays open.
    server = createServer((req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '64' });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => server.close(r));
  });

  it('fails the read after the request timeout instead of waiting for ever', async () => {
    const { port } = server.address() as AddressInfo;
    const store = storeAt(`http://127.0.0.1:${port}`, 500);
    const started = Date.now();
    await assert.rejects(store.get('locks/shared-1'), /nothing received for 500 ms/);
    await assert.rejects(store.getRange('packs/p', 0, 10), /nothing received for 500 ms/);
    assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
  });
});
