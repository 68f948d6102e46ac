/**
 * The local balancer in front of several gateways (`npm start -- --gateways N`): a TCP
 * round-robin, as a cloud load balancer in L4 mode would be. Each client connection goes to the
 * next gateway that accepts a connection; one that refuses is skipped (and a client whose every
 * gateway refuses is closed), so killing a gateway moves new connections to the others.
 * Streaming answers (chunked audio, SSE) pass through untouched.
 *
 * Owner: the launcher; `close()` stops listening and cuts open connections.
 * @module
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Balancer {
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(host: string, port: number, backends: readonly { host: string; port: number }[]): Promise<Balancer> {
  let next = 0;
  const open = new Set<Socket>();

  function route(client: Socket, tried: number): void {
    if (tried >= backends.length) return void client.destroy();
    const backend = backends[next++ % backends.length]!;
    const upstream = connect({ host: backend.host, port: backend.port });
    open.add(upstream);
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      client.pipe(upstream).pipe(client);
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.once('error', cut);
      client.once('error', cut);
      upstream.once('close', cut);
      client.once('close', cut);
    });
    upstream.once('error', () => {
      open.delete(upstream);
      route(client, tried + 1);
    });
    upstream.once('close', () => open.delete(upstream));
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    route(client, 0);
    client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
