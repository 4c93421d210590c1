import assert from 'node:assert/strict';
import { rssMb } from '../../scripts/bench/measure';

describe('benchmark figures', () => {
  it('reads resident memory from /proc status text, and fails instead of reading 0 when the field is missing', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  450560 kB\nVmRSS:\t  300000 kB\n';
    assert.equal(rssMb(1, 'VmHWM', status), 440);
    assert.throws(() => rssMb(1, 'VmHWM', 'Name:\tnode\nVmRSS:\t  300000 kB\n'), /no VmHWM line/);
  });

  it('measures this process from the real /proc', () => {
    assert.ok(rssMb(process.pid, 'VmRSS') > 0);
  });
});
