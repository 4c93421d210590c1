import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process (a worker) with SIGTERM so it shuts down while Temporal still runs (and writes its CPU profile,
 * if asked for), or kills it after `killAfterMs`. One already ended, by an exit or a signal, is left alone: a process
 * killed by a signal has a null exitCode too, and waiting for its exit would hang.
 */
export async function stopProcess(child: ChildProcess, killAfterMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(killer);
}
