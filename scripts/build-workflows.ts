/**
 * `npm run build:workflows [-- OUT]`: bundles the workflow code once, for workers started with
 * WORKFLOW_BUNDLE_PATH=OUT (production images, benchmarks). Default OUT: .local/build/workflow-bundle.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../temporal/data-converter';
import { workflowInterceptorModules } from '../worker/create-worker';

export async function buildWorkflowBundle(out: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules,
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, compactWorkflowBundle(code));
  return out;
}

const INLINE_SOURCE_MAP = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/**
 * The bundle as every worker holds it, smaller: a worker keeps its text (and its inline source map, which the SDK
 * requires) in the main thread and again in the workflow thread, for as long as it runs.
 * - The source map loses `sourcesContent` (1.3 of its 1.8 MB): stack traces are mapped with `mappings` alone; the
 *   original sources are shown only with the worker option `showStackTraceSources`, which the worker leaves off.
 * - The code is made ASCII: 17 characters such as "—" and "→" in comments made V8 hold the whole 3.9 MB text as
 *   two-byte (UTF-16) strings, twice its size. Each is written as its `\uXXXX` escape, which means the same
 *   character in a string, template or regular expression literal and is only text in a comment.
 * Idle worker: ~15 MB less resident (README, "Export benchmark").
 */
export function compactWorkflowBundle(code: string): string {
  const at = code.lastIndexOf(INLINE_SOURCE_MAP);
  if (at < 0) throw new Error('the workflow bundle has no inline source map: the SDK requires one');
  const map = JSON.parse(Buffer.from(code.slice(at + INLINE_SOURCE_MAP.length).trim(), 'base64').toString('utf8')) as {
    sourcesContent?: unknown;
  };
  delete map.sourcesContent;
  // Every character outside ASCII, by its UTF-16 code units (a regular expression without the `u` flag).
  const ascii = code
    .slice(0, at)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${ascii}${INLINE_SOURCE_MAP}${Buffer.from(JSON.stringify(map), 'utf8').toString('base64')}\n`;
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '../.local/build/workflow-bundle.js'));
  buildWorkflowBundle(out)
    .then((file) => console.log(`workflow bundle written to ${file}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
