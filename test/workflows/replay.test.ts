import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../temporal.config';
import * as workflows from '../../workflows';
import { createDataConverter } from '../../temporal/data-converter';
import { workflowInterceptorModules, workflowSinks } from '../../worker/create-worker';

/**
 * Replays the recorded histories in test/fixtures/histories/ (one real run of every workflow kind, recorded by
 * `npm run record:histories`) against today's workflow code: a change to a workflow that alters its commands without
 * `patched()` fails here, as it would fail running workflows after a deploy.
 */
const FIXTURES = path.resolve(__dirname, '../fixtures/histories');
/** Every workflow the worker registers (the functions workflows/index.ts exports), each to be replayed. */
const KINDS = Object.entries(workflows)
  .filter(([name, value]) => typeof value === 'function' && name.endsWith('Workflow'))
  .map(([name]) => name)
  .sort();

describe('replaying recorded workflow histories', function () {
  this.timeout(120_000);

  it('replays a recorded history of every workflow kind without non-determinism', async () => {
    const workflowIds = JSON.parse(await readFile(path.join(FIXTURES, 'workflow-ids.json'), 'utf8')) as Record<
      string,
      string
    >;
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.binpb')).sort();
    const histories = await Promise.all(
      files.map(async (file) => {
        const history = temporal.api.history.v1.History.decode(await readFile(path.join(FIXTURES, file)));
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        return { file, type: started?.workflowType?.name ?? '', history };
      }),
    );
    assert.deepEqual(
      [...new Set(histories.map((h) => h.type))].sort(),
      KINDS,
      'a recorded history of every workflow kind',
    );
    // The fixtures were recorded with the published development payload key (the test stack's).
    const dataConverter = createDataConverter(loadConfig({}).temporal.payloadEncryption);
    const results = Worker.runReplayHistories(
      // With the workflow interceptors the workers run (tracing): they take part in every activation.
      {
        workflowsPath: require.resolve('../../workflows'),
        dataConverter,
        interceptors: { workflowModules: workflowInterceptorModules },
        sinks: workflowSinks(),
      },
      histories.map((h) => ({ workflowId: workflowIds[h.file] ?? h.file, history: h.history })),
    );
    const failures: string[] = [];
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
