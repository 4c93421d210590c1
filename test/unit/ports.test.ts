import assert from 'node:assert/strict';
import net from 'node:net';
import { assertPortsFree, freePort, isPortFree } from '../../devstack/ports';

describe('local stack port checks', () => {
  it('names the port that is taken and what it was for', async () => {
    const port = await freePort();
    const holder = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    try {
      assert.equal(await isPortFree(port), false);
      const other = await freePort();
      await assert.rejects(
        assertPortsFree({ 'Temporal frontend': other, 'GCS emulator': port }),
        new RegExp(`GCS emulator port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
      await assertPortsFree({ 'Temporal frontend': other });
    } finally {
      holder.close();
    }
  });
});
