/**
 * A stand-in node runtime for gateway tests that need full control of the synthesis answer:
 * it answers the health checks (`/readyz`, `/v1/load`) like a healthy runtime serving both flite
 * packs, and hands every `POST /v1/synthesize` to the test. Where the real runtime can play the
 * part (sim packs, fault proxies), tests use that instead.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubNode {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startStubNode(
  synthesize: (req: IncomingMessage, res: ServerResponse) => void,
  load: { slots?: number; queueLimit?: number; latencyMs?: number } = {},
): Promise<StubNode> {
  const server = createServer((req, res) => {
    if (req.url === '/v1/synthesize') return synthesize(req, res);
    const body = JSON.stringify(
      req.url === '/v1/load'
        ? {
            ready: true,
            draining: false,
            slots: load.slots ?? 4,
            inflight: 0,
            queue_depth: 0,
            queue_limit: load.queueLimit ?? 8,
            latency_ewma_ms: load.latencyMs ?? 100,
            models: [{ name: 'flite' }, { name: 'flite-fast' }],
          }
        : { ready: true },
    );
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
