import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import {
  decodeFailure,
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
  encodeFailure,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { createDataConverter } from '../../temporal/data-converter';
import { buildWorkflowBundle } from '../../scripts/build-workflows';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

describe('failure encryption', () => {
  const encryption = { keyId: 'k1', key: randomBytes(32).toString('base64'), previousKeys: [], development: false };

  it('puts failure messages and stack traces in an encrypted payload, and gives them back to those with the key', async () => {
    const converter = loadDataConverter(createDataConverter(encryption));
    const error = ApplicationFailure.create({
      type: 'GraphRequestFailed',
      message: "Graph answered 400 for group 'Board of Directors – Very Recognisable'",
    });
    const failure = await encodeFailure(converter.payloadCodecs, await encodeErrorToFailure(converter, error));
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    const stored = JSON.stringify(failure, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    assert.ok(!stored.includes('Very Recognisable'), stored);
    assert.ok(!stored.includes('failure-encryption.test'), 'no stack trace in the clear');

    const decoded = await decodeOptionalFailureToOptionalError(
      converter,
      await decodeFailure(converter.payloadCodecs, failure),
    );
    assert.ok(decoded instanceof ApplicationFailure);
    assert.equal(decoded.message, error.message);
    assert.equal(decoded.type, 'GraphRequestFailed');
  });

  it('builds workflow bundles with the same failure converter, so failures raised in workflows are encrypted too', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-')), 'workflows.js');
    const code = fs.readFileSync(await buildWorkflowBundle(out), 'utf8');
    assert.match(code, /encodeCommonAttributes: true/);
    // Compacted (scripts/build-workflows.ts): ASCII, so V8 holds it as one-byte strings, and no original sources.
    assert.doesNotMatch(code, /[\u0080-\uffff]/);
    const map = code.slice(code.lastIndexOf('base64,') + 'base64,'.length).trim();
    const parsed = JSON.parse(Buffer.from(map, 'base64').toString('utf8')) as Record<string, unknown>;
    assert.ok(typeof parsed.mappings === 'string' && parsed.mappings.length > 0);
    assert.equal(parsed.sourcesContent, undefined);
  });
});
