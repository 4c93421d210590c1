import { spawn } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './http';

export interface ApiProcess {
  baseUrl: string;
  pid: number;
  /** SIGTERM, as an orchestrator stops a replica; resolves once the process has exited. */
  stop(): Promise<void>;
  readonly stopped: boolean;
}

/** The product's API (api/main.ts) in a process of its own, as a replica runs; resolves once /healthz answers 200. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'api/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${env.API_PORT}`;
  try {
    await waitFor(
      `the API process on ${baseUrl}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the API process exited: ${stderr}`);
        const res = await fetch(`${baseUrl}/healthz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      60_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let stopped = false;
  return {
    baseUrl,
    pid: child.pid!,
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
