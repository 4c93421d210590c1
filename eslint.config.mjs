// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';
import fs from 'node:fs';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** worker/ and api/ are the two process entry points: they assemble the product folders. */
const entryPointImports = [
  'accounts',
  'observability',
  'activities',
  'catalog',
  'diff',
  'exports',
  'microsoft',
  'restore',
  'storage',
  'temporal',
  'temporal.config.ts',
  'workflow-constants.ts',
  'tenants',
  'workflows',
];

/**
 * The walls between folders (README "Architecture" says why each exists). Each folder lists the project folders it
 * may import; every other project folder is closed to it. The rule compares resolved file paths, so no spelling of a
 * path (`../activities`, `../../simulator/index`, `./../x`) gets around it. scripts/ and test/ may import anything.
 */
const layers = {
  microsoft: [],
  catalog: [],
  tenants: [],
  diff: [],
  exports: ['tenants'],
  portal: ['diff'],
  restore: ['activities', 'catalog', 'storage', 'tenants'],
  'workflow-constants.ts': [],
  'temporal.config.ts': ['workflow-constants.ts'],
  temporal: ['temporal.config.ts', 'workflow-constants.ts'],
  observability: [],
  storage: ['catalog', 'observability', 'temporal.config.ts', 'workflow-constants.ts'],
  accounts: ['temporal', 'temporal.config.ts', 'workflow-constants.ts', 'workflows'],
  // Everything the entry points assemble but the workflows' code (activityZones: only their messages) and themselves.
  activities: entryPointImports.filter((f) => f !== 'activities'),
  worker: entryPointImports,
  api: entryPointImports,
  devstack: ['storage', 'temporal.config.ts', 'workflow-constants.ts'],
  simulator: ['microsoft'],
};
const projectFolders = [...Object.keys(layers), 'workflows', 'scripts', 'test'];

/**
 * Files of a closed folder that a layer may still import (activities reach workflows' messages through
 * activityZones below, as workflows/ is open to them).
 */
const layerExceptions = {
  // The API answers with a snapshot's summary and an object's history as storage types them (types only, see below).
  portal: { storage: ['./snapshot-reader.ts'] },
};

const layerZones = Object.entries(layers).flatMap(([target, allowed]) => {
  const closed = projectFolders.filter((f) => f !== target && !allowed.includes(f));
  return closed.map((from) => ({
    target: `./${target}`,
    from: `./${from}`,
    ...(layerExceptions[target]?.[from] ? { except: layerExceptions[target][from] } : {}),
    message:
      from === 'simulator'
        ? 'The simulator is a test component: only test/, scripts/ and simulator/ import it.'
        : target === 'simulator'
          ? 'The simulator stands in for Microsoft and imports no product code (shared facts live in microsoft/).'
          : `${target} may import only ${allowed.length ? allowed.join(', ') : 'no other project folder'} (see README "Architecture").`,
  }));
});

/**
 * Workflow code is bundled into Temporal's deterministic sandbox: it reaches activities only as types (through
 * proxyActivities), the message definitions beside it, the catalog, the tenant/account record types, the search
 * attribute keys, the export and restore job types and the workflow constants.
 */
const workflowMessage = 'Workflows import only activity types, messages, catalog, record types and workflow constants.';
/** Activities signal and query workflows through their message definitions, and reach no other workflow code. */
const messageFiles = fs.readdirSync(`${import.meta.dirname}/workflows`).filter((f) => f.endsWith('-messages.ts'));
const activityZones = [
  {
    target: './activities',
    from: './workflows',
    except: messageFiles.map((f) => `./${f}`),
    message: 'Activities import only the message definitions of workflows (workflows/*-messages.ts).',
  },
];

const workflowZones = [
  { target: './workflows', from: './activities', except: ['./index.ts'], message: workflowMessage },
  { target: './workflows', from: './tenants', except: ['./types.ts', './list-entry.ts'], message: workflowMessage },
  { target: './workflows', from: './accounts', except: ['./types.ts'], message: workflowMessage },
  { target: './workflows', from: './temporal', except: ['./search-attributes.ts'], message: workflowMessage },
  // restore/tenant-repository.ts reaches storage and activities: workflows take only the restore's types.
  { target: './workflows', from: './restore', except: ['./types.ts'], message: workflowMessage },
  ...[
    'api',
    'worker',
    'storage',
    'devstack',
    'microsoft',
    'simulator',
    'scripts',
    'test',
    'temporal.config.ts',
    'diff',
    'observability',
  ].map((from) => ({
    target: './workflows',
    from: `./${from}`,
    message: from === 'simulator' ? 'The simulator is a test component.' : workflowMessage,
  })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-restricted-paths': [
        'error',
        { basePath: import.meta.dirname, zones: [...layerZones, ...workflowZones, ...activityZones] },
      ],
      // This rule skips type-only imports; scripts/lint-cycles.ts (run by `npm run lint`) catches cycles of types too.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: Node built-ins are not available there, and activities
    // would drag their I/O into the bundle, so activities/index is imported for its types only.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in workflow code.' })),
          patterns: [
            {
              regex: '(^|/)activities(/index(\\.[cm]?[jt]s)?)?/?$',
              allowTypeImports: true,
              message: 'Import activities as types only (import type … ; proxyActivities does the rest).',
            },
          ],
        },
      ],
    },
  },
  {
    // The portal is bundled for the browser and reaches the product only through the API: the answer types it shares
    // with diff/ and storage/ are imported as types, which esbuild drops, so no Node code reaches the bundle.
    files: ['portal/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(diff|storage)(/|$)',
              allowTypeImports: true,
              message: 'The portal imports product code as types only (import type …): it runs in the browser.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
