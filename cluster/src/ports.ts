/**
 * Port selection for a local cluster: keep the configured port when it is free, otherwise ask
 * the kernel for an ephemeral one, so `npm start` works next to whatever else is running.
 * @module
 */
import { createServer } from 'node:net';

function tryListen(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** The configured port if it can be bound now, else a free ephemeral port. */
export async function choosePort(preferred: number, host = '127.0.0.1'): Promise<{ port: number; moved: boolean }> {
  const kept = preferred > 0 ? await tryListen(preferred, host) : undefined;
  if (kept !== undefined) return { port: kept, moved: false };
  const fresh = await tryListen(0, host);
  if (fresh === undefined) throw new Error(`no free port on ${host}`);
  return { port: fresh, moved: preferred > 0 };
}
