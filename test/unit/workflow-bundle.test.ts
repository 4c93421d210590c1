import assert from 'node:assert/strict';
import vm from 'node:vm';
import { compactWorkflowBundle } from '../../scripts/build-workflows';

const PREFIX = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

function inlineMap(map: object): string {
  return `${PREFIX}${Buffer.from(JSON.stringify(map), 'utf8').toString('base64')}\n`;
}

function mapOf(code: string): Record<string, unknown> {
  const at = code.lastIndexOf(PREFIX);
  return JSON.parse(Buffer.from(code.slice(at + PREFIX.length).trim(), 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('workflow bundle compaction', () => {
  const source = [
    '// A → B — comment text',
    'globalThis.result = JSON.stringify({ plain: "a—b → c", template: `ø ${1 + 1} –`, astral: "x😀y", re: /[–—]/.test("—") });',
    '',
  ].join('\n');
  const map = {
    version: 3,
    file: 'b.js',
    sources: ['w.ts'],
    sourcesContent: ['x'.repeat(1000)],
    names: [],
    mappings: 'AAAA;AACA',
  };

  it('writes the code in ASCII and it still means the same', () => {
    const compacted = compactWorkflowBundle(source + inlineMap(map));
    assert.doesNotMatch(compacted, /[\u0080-\uffff]/);
    const original: { result?: unknown } = {};
    const rewritten: { result?: unknown } = {};
    vm.runInNewContext(source, original);
    vm.runInNewContext(compacted, rewritten);
    assert.equal(rewritten.result, original.result);
    assert.deepEqual(JSON.parse(rewritten.result as string), {
      plain: 'a—b → c',
      template: 'ø 2 –',
      astral: 'x😀y',
      re: true,
    });
  });

  it('keeps the source map without the original sources', () => {
    const compacted = mapOf(compactWorkflowBundle(source + inlineMap(map)));
    const { sourcesContent: _dropped, ...kept } = map;
    assert.deepEqual(compacted, kept);
  });

  it('refuses a bundle without its inline source map (the SDK cannot load one)', () => {
    assert.throws(() => compactWorkflowBundle(source), /no inline source map/);
  });
});
