/**
 * `npm run bench:export-zip -- [--entries 200000]`: the export's zip writer alone (`ExportZip`), fed small JSON
 * entries shaped like an export's into a sink that takes its bytes as an upload would (asynchronously), in a process
 * with the worker's heap limit (256 MB, as `npm run bench` gives it). Prints the peak RSS: whatever the zip must keep
 * per entry shows here as growth with `--entries` (before the central directory and SHA256SUMS were spilled to disk,
 * 200,000 entries ran out of that heap). Figures, not assertions.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { ExportZip } from '../activities/export/export-zip';

async function run(): Promise<void> {
  const { values } = parseArgs({ options: { entries: { type: 'string', default: '200000' } } });
  const entries = Number(values.entries);
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      setImmediate(callback);
    },
  });
  const zip = new ExportZip(sink, new Date('2026-01-01T00:00:00Z'));
  const started = Date.now();
  for (let i = 0; i < entries; i++) {
    const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const body = { id, displayName: `User ${i}`, mail: `user${i}@contoso.example`, jobTitle: 'Engineer' };
    await zip.add(`users/User ${i}__${id}.json`, Buffer.from(`${JSON.stringify(body, null, 2)}\n`));
  }
  await zip.finish();
  const peakKb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]);
  console.log(
    JSON.stringify({
      entries,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
      zipMb: Number((bytes / 1024 / 1024).toFixed(1)),
      peakRssMb: Math.round(peakKb / 1024),
    }),
  );
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
