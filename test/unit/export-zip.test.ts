import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { ExportZip } from '../../activities/export/export-zip';

const date = new Date('2026-11-30T10:00:00Z');

/** Entries shaped like an export's: many small JSON files under type folders, UTF-8 names included. */
function entries(count: number): { name: string; body: Buffer }[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `users/Ünïcode user ${i}__${i.toString(16).padStart(8, '0')}.json`,
    body: Buffer.from(`${JSON.stringify({ id: i, displayName: `User ${i}`, pad: 'x'.repeat(i % 300) }, null, 2)}\n`),
  }));
}

async function collect(write: (out: Writable) => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  await write(out);
  await finished(out);
  return Buffer.concat(parts);
}

describe('export zip', function () {
  this.timeout(120_000);
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-zip-test-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is byte for byte the zip archiver writes itself, though its central directory and sums were spilled to disk', async () => {
    const files = entries(3000);
    const ours = await collect(async (out) => {
      const zip = new ExportZip(out, date, tmp);
      for (const f of files) await zip.add(f.name, f.body);
      await zip.finish();
    });
    const sums = files.map((f) => `${createHash('sha256').update(f.body).digest('hex')}  ${f.name}\n`).join('');
    const plain = await collect(async (out) => {
      const archive = new ZipArchive({ zlib: { level: 6 } });
      archive.pipe(out);
      for (const f of files) archive.append(f.body, { name: f.name, date });
      archive.append(Buffer.from(sums, 'utf8'), { name: 'SHA256SUMS', date });
      await archive.finalize();
    });
    assert.equal(ours.length, plain.length);
    assert.ok(ours.equals(plain), 'same bytes');
    assert.deepEqual(fs.readdirSync(tmp), [], 'the spill files are removed once the zip is finished');

    const file = path.join(tmp, 'export.zip');
    fs.writeFileSync(file, ours);
    const dir = path.join(tmp, 'unzipped');
    execFileSync('unzip', ['-q', file, '-d', dir]);
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: dir });
    assert.equal(fs.readdirSync(path.join(dir, 'users')).length, files.length);
  });

  it('writes a valid ZIP64 directory when the entries outnumber a 16-bit count', async () => {
    // 65,535 is the most entries a plain end-of-central-directory record counts; the spilled directory must still
    // switch to ZIP64 records as the engine would.
    const count = 65_600;
    const file = path.join(tmp, 'many.zip');
    const out = fs.createWriteStream(file);
    const zip = new ExportZip(out, date, tmp);
    for (let i = 0; i < count; i++) await zip.add(`t/${i}.json`, Buffer.from(`{"id":${i}}\n`));
    await zip.finish();
    const listing = execFileSync('zipinfo', ['-t', file], { encoding: 'utf8' });
    assert.match(listing, new RegExp(`^${count + 1} files`), listing);
    execFileSync('unzip', ['-tq', file]);
  });

  it('removes its spill files when aborted, and fails the destination', async () => {
    const out = new PassThrough();
    out.resume();
    const zip = new ExportZip(out, date, tmp);
    for (const f of entries(100)) await zip.add(f.name, f.body);
    assert.equal(fs.readdirSync(tmp).length, 1, 'one spill folder while the zip is built');
    zip.abort(new Error('cancelled'));
    assert.deepEqual(fs.readdirSync(tmp), []);
    await assert.rejects(finished(out), /cancelled/);
    await assert.rejects(zip.add('late.json', Buffer.from('{}')), /cancelled/);
  });
});
