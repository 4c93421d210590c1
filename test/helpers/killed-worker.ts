import { once } from 'node:events';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../temporal/connection';
import { sharedTestStack, type TestStack } from './stack';
import { startTenantFixture, type TenantFixture } from './tenant-fixture';
import { backupFixture, startWorkerProcess } from './backup-fixture';

export type WorkerProcess = ReturnType<typeof startWorkerProcess>;

export interface KilledWorkerFixture {
  stack: TestStack;
  client: Client;
  fx: TenantFixture;
  backups: ReturnType<typeof backupFixture>;
  /** Starts the product's worker in a process of its own (with `env`, the fixture's by default); the after hook stops them all. */
  startWorker(env?: Record<string, string>): WorkerProcess;
}

/**
 * Mocha hooks for a test that kills the worker process mid-run (test/faults/worker-killed-*.test.ts): before all,
 * the shared stack, a Temporal client and a tenant fixture loaded with `env`; after all, Graph at full speed again
 * and every worker started resumed (a test may leave one SIGSTOPped) and stopped, then the simulator and the
 * client closed. The object returned is filled in by the before hook: read it inside tests.
 */
export function killedWorkerFixture(env: Record<string, string>): KilledWorkerFixture {
  // Every worker a test starts: one left running would poll the task queue of the next test in the file.
  const workers: WorkerProcess[] = [];
  const shared = {
    startWorker(workerEnv = shared.fx.env) {
      const worker = startWorkerProcess(workerEnv);
      workers.push(worker);
      return worker;
    },
  } as KilledWorkerFixture;
  before(async () => {
    shared.stack = await sharedTestStack();
    shared.client = await connectClient(shared.stack.config.temporal);
    shared.fx = await startTenantFixture(shared.stack, shared.client, env);
    shared.backups = backupFixture(shared.stack, shared.client, shared.fx);
  });
  after(async () => {
    shared.fx?.sim.control.setLatency({ baseMs: 0, jitterMs: 0 });
    for (const worker of workers.splice(0)) {
      if (worker.signalCode === null && worker.exitCode === null) worker.kill('SIGCONT');
      await worker.stop();
    }
    await shared.fx?.sim.close();
    await shared.client?.connection.close();
  });
  return shared;
}

/** Kills a worker process as a crash would (no shutdown, no last heartbeat) and waits until it is gone. */
export async function killWorker(worker: WorkerProcess): Promise<void> {
  worker.kill('SIGKILL');
  if (worker.exitCode === null && worker.signalCode === null) await once(worker, 'exit');
}
