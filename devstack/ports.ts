import net from 'node:net';

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS just handed out; free at the time of the call. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Throws an error naming every port of `wanted` that something else already holds. */
export async function assertPortsFree(wanted: Record<string, number>, host = '127.0.0.1'): Promise<void> {
  const taken: string[] = [];
  for (const [what, port] of Object.entries(wanted)) {
    if (!(await isPortFree(port, host))) taken.push(`${what} port ${port} on ${host}`);
  }
  if (taken.length > 0) {
    throw new Error(
      `cannot start the local stack: ${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} already in use ` +
        '(stop whatever holds it, or choose other ports with LOCAL_TEMPORAL_PORT, LOCAL_TEMPORAL_UI_PORT, LOCAL_GCS_PORT)',
    );
  }
}
