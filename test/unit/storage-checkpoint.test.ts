import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryObjectStore } from '../../storage/memory-object-store';
import { CheckpointMissingError } from '../../storage/checkpoints';
import { Repository } from '../../storage/repository';
import type { TypeResult, TypeWriter } from '../../storage/type-writer';

const TENANT = '0785ef7c-2d7a-4542-b048-95bcab406e0b';
const masterKey = randomBytes(32).toString('base64');
const obj = (i: number, v = 0) => ({ id: `id-${i}`, displayName: `Object ${i}`, v });

/** Commits a snapshot of the one type a writer finished; returns its id. */
async function commitType(repo: Repository, result: TypeResult): Promise<string> {
  const { type, count, softDeleted, manifest } = result;
  const snapshot = await repo.commitSnapshot({
    tenantId: TENANT,
    startedAt: new Date(),
    types: { [type]: { status: 'captured', count, softDeleted, manifest } },
  });
  return snapshot.id;
}

/** What a page of Graph would give the writer: objects `from` … `to - 1`. */
async function addObjects(writer: TypeWriter, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await writer.addObject(`id-${i}`, `Object ${i}`, obj(i));
}

// A capture activity that dies mid-type resumes from its last checkpoint in a new process (a new Repository).
describe('storage: type writer checkpoints', () => {
  it('resumes a full read after a crash with every object once and nothing stored twice', async () => {
    const store = new MemoryObjectStore();
    const first = await Repository.open(store, masterKey);
    const w1 = await first.openTypeWriter('users', { mode: 'full' });
    await addObjects(w1, 0, 300);
    const checkpoint = await w1.checkpoint();
    // Objects added after the checkpoint are lost with the crash; the resumed read adds them again from its page link.
    await addObjects(w1, 300, 350);

    const second = await Repository.open(store, masterKey);
    const w2 = await second.openTypeWriter('users', { mode: 'full', resumeFrom: checkpoint });
    await addObjects(w2, 300, 500);
    const result = await w2.finish();
    assert.equal(result.count, 500);
    const id = await commitType(second, result);
    const entries = await second.listEntries(id, 'users');
    assert.deepEqual(entries.map((e) => e.id).sort(), Array.from({ length: 500 }, (_, i) => `id-${i}`).sort());
    // The 300 objects written before the checkpoint were deduplicated, not written again.
    assert.equal(result.blobsAdded < 260, true, `blobsAdded ${result.blobsAdded}`);
  });

  it('resumes a changes-mode writer with its removals and soft deletions', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, masterKey);
    const base = await repo.openTypeWriter('groups', { mode: 'full' });
    await addObjects(base, 0, 10);
    const baseResult = await base.finish();

    const w1 = await repo.openTypeWriter('groups', { mode: 'changes', base: baseResult.manifest });
    await w1.addObject('id-1', 'Object 1', obj(1, 1));
    await w1.remove('id-2');
    await w1.markSoftDeleted('id-3');
    const checkpoint = await w1.checkpoint();

    const again = await Repository.open(store, masterKey);
    const w2 = await again.openTypeWriter('groups', {
      mode: 'changes',
      base: baseResult.manifest,
      resumeFrom: checkpoint,
    });
    await w2.addObject('id-10', 'Object 10', obj(10));
    const result = await w2.finish();
    const id = await commitType(again, result);
    const entries = new Map((await again.listEntries(id, 'groups')).map((e) => [e.id, e]));
    assert.equal(entries.size, 10);
    assert.equal(entries.has('id-2'), false);
    assert.equal(entries.get('id-3')?.state, 'softDeleted');
    assert.deepEqual(await again.readObject(entries.get('id-1')!.contentHash), obj(1, 1));
    assert.ok(entries.has('id-10'));
  });

  it('chains checkpoints: each holds what changed since the one before, and a resume replays and continues the chain', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, masterKey);
    const w1 = await repo.openTypeWriter('users', { mode: 'full' });
    await addObjects(w1, 0, 100);
    const cp1 = await w1.checkpoint();
    await addObjects(w1, 100, 150);
    await w1.addObject('id-7', 'Object 7', obj(7, 1));
    await w1.remove('id-5');
    const cp2 = await w1.checkpoint();
    const state2 = await repo.readCheckpoint(cp2);
    assert.equal(state2.previous, cp1);
    assert.equal(state2.entries.length, 51, 'the 50 new objects and the changed one, not the 100 before');
    assert.deepEqual(state2.removed, ['id-5']);

    const w2 = await (
      await Repository.open(store, masterKey)
    ).openTypeWriter('users', { mode: 'full', resumeFrom: cp2 });
    await addObjects(w2, 150, 200);
    const cp3 = await w2.checkpoint();
    const state3 = await repo.readCheckpoint(cp3);
    assert.equal(state3.previous, cp2);
    assert.equal(state3.entries.length, 50);

    const again = await Repository.open(store, masterKey);
    const w3 = await again.openTypeWriter('users', { mode: 'full', resumeFrom: cp3 });
    const result = await w3.finish();
    const id = await commitType(again, result);
    const entries = new Map((await again.listEntries(id, 'users')).map((e) => [e.id, e]));
    assert.equal(entries.size, 199);
    assert.equal(entries.has('id-5'), false);
    assert.deepEqual(await again.readObject(entries.get('id-7')!.contentHash), obj(7, 1));
  });

  it('deletes its checkpoints when the type is finished: a late retry learns there is nothing to resume', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, masterKey);
    const w = await repo.openTypeWriter('users', { mode: 'full' });
    for (let i = 0; i < 20; i++) {
      await w.addObject(`id-${i}`, `Object ${i}`, obj(i));
      if (i % 5 === 4) await w.checkpoint();
    }
    const last = await w.checkpoint();
    assert.equal([...store.objects.keys()].filter((k) => k.startsWith('checkpoints/')).length, 5);
    await w.finish();
    assert.deepEqual(
      [...store.objects.keys()].filter((k) => k.startsWith('checkpoints/')),
      [],
    );
    await assert.rejects(repo.openTypeWriter('users', { mode: 'full', resumeFrom: last }), CheckpointMissingError);
  });

  it('refuses a checkpoint of another writer', async () => {
    const store = new MemoryObjectStore();
    const repo = await Repository.open(store, masterKey);
    const w = await repo.openTypeWriter('users', { mode: 'full' });
    await w.addObject('a', 'A', obj(1));
    const checkpoint = await w.checkpoint();
    await assert.rejects(
      repo.openTypeWriter('groups', { mode: 'full', resumeFrom: checkpoint }),
      /belongs to another writer/,
    );
  });
});
