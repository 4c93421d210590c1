import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { findImportCycles } from '../../scripts/lint-cycles';

/**
 * The walls between folders are ESLint rules (eslint.config.mjs). Planted sources prove that each kind of
 * violation fails `npm run lint` whatever the spelling of the path, and that the allowed imports pass.
 */
const root = path.resolve(__dirname, '../..');

// Planted files are linted without type information (they are not in the TypeScript project); the boundary rules
// need none, as they compare resolved paths.
const eslint = new ESLint({ cwd: root, ignore: false, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  return result.messages
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths' || m.ruleId?.endsWith('no-restricted-imports'))
    .map((m) => m.message);
}

describe('lint: the walls between folders', function () {
  this.timeout(60_000);

  const violations: Array<[string, string, string, RegExp]> = [
    [
      'workflow imports an activity module',
      'workflows/planted.ts',
      "import { x } from '../activities/backup/capture-type';",
      /Workflows import only/,
    ],
    [
      'workflow imports activities as a value',
      'workflows/planted.ts',
      "import { createActivities } from '../activities';",
      /types only/,
    ],
    [
      '… spelled with index',
      'workflows/planted.ts',
      "import { createActivities } from './../activities/index';",
      /types only/,
    ],
    ['workflow imports storage', 'workflows/planted.ts', "import { x } from '../storage';", /Workflows import only/],
    ['workflow imports a Node built-in', 'workflows/planted.ts', "import fs from 'node:fs';", /Node built-ins/],
    [
      'workflow imports the tenant consent code',
      'workflows/planted.ts',
      "import { x } from '../tenants/consent-state';",
      /Workflows import only/,
    ],
    [
      "workflow imports the restore's repository access",
      'workflows/planted.ts',
      "import { x } from '../restore/tenant-repository';",
      /Workflows import only/,
    ],
    [
      'activity imports the API',
      'activities/backup/planted.ts',
      "import { x } from '../../api/problem';",
      /activities may import only/,
    ],
    [
      'storage imports activities',
      'storage/planted.ts',
      "import type { x } from '../activities/index';",
      /storage may import only/,
    ],
    [
      'API imports the simulator',
      'api/routes/planted.ts',
      "import { x } from '../../simulator';",
      /simulator is a test component/,
    ],
    [
      'devstack imports the simulator by a long path',
      'devstack/planted.ts',
      "import { x } from '../devstack/../simulator/index';",
      /simulator is a test component/,
    ],
    [
      'catalog imports the simulator',
      'catalog/planted.ts',
      "export { x } from '../simulator/control-client';",
      /simulator is a test component/,
    ],
    [
      'tenants import storage',
      'tenants/planted.ts',
      "import { x } from '../storage/crypto';",
      /tenants may import only/,
    ],
    [
      'temporal imports activities',
      'temporal/planted.ts',
      "import { x } from '../activities/consent';",
      /temporal may import only/,
    ],
    [
      'accounts import the API',
      'accounts/planted.ts',
      "import { x } from '../api/problem';",
      /accounts may import only/,
    ],
    [
      'the portal (browser code) imports the diff as a value',
      'portal/views/planted.ts',
      "import { diffObjects } from '../../diff';",
      /types only/,
    ],
    [
      'the portal imports storage code',
      'portal/planted.ts',
      "import type { Repository } from '../storage/repository';",
      /portal may import only/,
    ],
    [
      'the portal imports the snapshot reader as a value',
      'portal/planted.ts',
      "import { SnapshotReader } from '../storage/snapshot-reader';",
      /types only/,
    ],
    [
      'the simulator imports product code',
      'simulator/graph/planted.ts',
      "import { x } from '../../catalog';",
      /imports no product code/,
    ],
    [
      'the simulator imports configuration',
      'simulator/planted.ts',
      "import { x } from '../temporal.config';",
      /imports no product code/,
    ],
  ];
  for (const [name, file, code, expected] of violations) {
    it(`fails when ${name}`, async () => {
      const errors = await boundaryErrors(file, code);
      assert.ok(
        errors.some((e) => expected.test(e)),
        `${file}: ${code} → ${JSON.stringify(errors)}`,
      );
    });
  }

  const allowed: Array<[string, string, string]> = [
    ['workflow imports activity types', 'workflows/planted.ts', "import type { Activities } from '../activities';"],
    [
      'workflow imports tenant types and the catalog',
      'workflows/planted.ts',
      "import { PLANS } from '../tenants/types';\nimport { listObjectTypes } from '../catalog';",
    ],
    ['activities import storage', 'activities/backup/planted.ts', "import { x } from '../../storage';"],
    [
      'the portal imports the API answer types it shares with diff and storage',
      'portal/views/planted.ts',
      "import type { TypeDiff } from '../../diff';\nimport type { SnapshotSummary } from '../../storage/snapshot-reader';",
    ],
    ['tests import the simulator', 'test/unit/planted.ts', "import { x } from '../../simulator';"],
  ];
  for (const [name, file, code] of allowed) {
    it(`passes when ${name}`, async () => {
      assert.deepEqual(await boundaryErrors(file, code), []);
    });
  }

  it('fails on an import cycle', async () => {
    const dir = path.join(root, 'test', `.lint-cycle-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
      writeFileSync(path.join(dir, 'b.ts'), "import { a } from './a';\nexport const b = () => a;\n");
      const [result] = await eslint.lintFiles([path.join(dir, 'a.ts')]);
      const cycles = result.messages.filter((m) => m.ruleId === 'import-x/no-cycle');
      assert.equal(cycles.length, 1, JSON.stringify(result.messages));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on an import cycle made only of type imports, which import-x/no-cycle skips', async () => {
    const dir = path.join(root, 'test', `.lint-type-cycle-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ include: ['**/*.ts'] }));
      writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport interface A { b?: B }\n");
      writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './a';\nexport interface B { a?: A }\n");
      writeFileSync(path.join(dir, 'c.ts'), "import type { A } from './a';\nexport type C = A;\n");
      assert.deepEqual(findImportCycles(dir), [['a.ts', 'b.ts']]);

      const [result] = await eslint.lintFiles([path.join(dir, 'a.ts')]);
      assert.deepEqual(
        result.messages.filter((m) => m.ruleId === 'import-x/no-cycle'),
        [],
        'if import-x starts counting type imports, lint-cycles.ts may be dropped',
      );

      // The step `npm run lint` runs exits non-zero on it.
      const script = path.join(root, 'scripts', 'lint-cycles.ts');
      assert.throws(
        () => execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), [script, dir], { stdio: 'pipe' }),
        (err: { status: number; stderr: Buffer }) => err.status === 1 && /a\.ts ↔ b\.ts/.test(err.stderr.toString()),
      );

      rmSync(path.join(dir, 'b.ts'));
      writeFileSync(path.join(dir, 'b.ts'), 'export interface B { n: number }\n');
      assert.deepEqual(findImportCycles(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
