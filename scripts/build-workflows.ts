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
  fs.writeFileSync(out, code);
  return out;
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
