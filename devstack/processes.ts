import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts a server that outlives this process; its output goes to logFile. Returns its pid. */
export function spawnServer(binary: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): number {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out], ...(env ? { env } : {}) });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  child.unref();
  return child.pid;
}

/**
 * True when `pid` is alive and still runs `binary`: a recorded pid may have been reused by an unrelated process
 * after a reboot, and stop must never signal that one.
 */
export function isRunning(pid: number, binary: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0] === binary;
  } catch {
    return false;
  }
}

export async function stopProcess(pid: number, binary: string, graceMs = 10_000): Promise<boolean> {
  if (!isRunning(pid, binary)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, binary) || isZombie(pid)) return true;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  return true;
}

/** Kills at once, as a crash would. */
export function killProcess(pid: number, binary: string): void {
  if (isRunning(pid, binary)) process.kill(pid, 'SIGKILL');
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** Polls `check` until it answers true; `isFatal` says which of its errors mean it never will. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
  isFatal: (err: unknown) => boolean = () => false,
) {
  const deadline = Date.now() + timeoutMs;
  const tail = () =>
    logFile && fs.existsSync(logFile) ? `\n--- last lines of ${logFile} ---\n${lastLines(logFile, 15)}` : '';
  while (Date.now() < deadline) {
    let fatal: unknown;
    const ok = await check().catch((err: unknown) => {
      if (isFatal(err)) fatal = err;
      return false;
    });
    if (fatal) throw new Error(`${what} did not come up: ${(fatal as Error).message}${tail()}`, { cause: fatal });
    if (ok) return;
    await sleep(150);
  }
  throw new Error(`${what} did not become healthy within ${timeoutMs / 1000} s${tail()}`);
}

function lastLines(file: string, n: number): string {
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
}
