import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { appPermissions } from '../../scripts/app-permissions';

const doc = fs.readFileSync(path.join(__dirname, '../../docs/deployment.md'), 'utf8');

/** The permissions the doc lists between `<!-- app-permissions:NAME -->` markers, in its order. */
function listed(name: string): string[] {
  const block = new RegExp(`<!-- app-permissions:${name} -->([\\s\\S]*?)<!-- /app-permissions:${name} -->`).exec(doc);
  assert.ok(block, `docs/deployment.md has an app-permissions:${name} block`);
  return [...block[1].matchAll(/`([A-Za-z.]+)`/g)].map((m) => m[1]);
}

describe('docs/deployment.md', () => {
  // An admin grants exactly what the doc lists: a permission the catalog gained and the doc lacks fails backups
  // as "permission missing" at every customer that followed it.
  it('lists exactly the application permissions the catalog requires of each app', () => {
    const { backup, restore } = appPermissions();
    assert.deepEqual(listed('backup'), backup);
    assert.deepEqual(listed('restore'), restore);
  });

  it('names only container files and npm scripts that exist', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    for (const [, file] of doc.matchAll(/-f (deploy\/[\w.-]+)/g)) {
      assert.ok(fs.existsSync(path.join(__dirname, '../..', file)), file);
    }
    for (const [, script] of doc.matchAll(/npm run ([\w:-]+)/g)) {
      assert.ok(pkg.scripts[script], `npm run ${script}`);
    }
  });
});
