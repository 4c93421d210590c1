import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeServerConfig } from '../../devstack/temporal-cluster';

describe('devstack: the Temporal cluster configuration', () => {
  it('never holds the database password: the server renders it from its environment', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-config-'));
    try {
      const secret = 's3cr"et-\u00e9';
      const dir = await writeServerConfig({
        binDir: dataDir,
        dataDir,
        postgres: { host: '127.0.0.1', port: 5432, user: 'temporal', password: secret },
        databases: { main: 'm', visibility: 'v' },
        port: 7233,
        uiPort: 8233,
        namespace: 'default',
      });
      const text = fs.readFileSync(path.join(dir, 'cluster.yaml'), 'utf8');
      assert.ok(!text.includes(secret) && !text.includes('s3cr'), 'the password is not in the file');
      // The loader renders a file as a template only when "enable-template" is in its first 1 KB.
      assert.ok(text.slice(0, 1024).includes('enable-template'));
      assert.equal(text.match(/password: \{\{ env "ENTRA_BACKUP_TEMPORAL_SQL_PASSWORD" \| toJson \}\}/g)?.length, 2);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
