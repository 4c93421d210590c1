export interface GcsServerOptions {
  binary: string;
  port: number;
  /** Objects are kept on disk here, so they survive a restart of the stack. */
  rootDir: string;
}

/** Arguments for fake-gcs-server: loopback only, plain HTTP, path-style URLs on our own host. */
export function gcsServerArgs(o: GcsServerOptions): string[] {
  const hostPort = `127.0.0.1:${o.port}`;
  return [
    '-host',
    '127.0.0.1',
    '-port',
    String(o.port),
    '-scheme',
    'http',
    '-backend',
    'filesystem',
    '-filesystem-root',
    o.rootDir,
    '-public-host',
    hostPort,
    '-external-url',
    `http://${hostPort}`,
    '-log-level',
    'warn',
  ];
}

export function gcsHealthUrl(port: number): string {
  return `http://127.0.0.1:${port}/_internal/healthcheck`;
}
