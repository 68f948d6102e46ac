/**
 * writeReply's ownership rule for pooled bodies: a buffer goes back to the pool only once the
 * client's write has finished, never while Node still holds it for a slow reader. Real sockets
 * on 127.0.0.1; the body is 64 MiB so a client that does not read leaves the write pending
 * (loopback's socket buffers swallow a 64 KiB body whole).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReply } from '../../../gateway/src/request-path/respond.ts';
import { BodyPool } from '../../../gateway/src/upstream/body-pool.ts';

// Far more than a socket's kernel buffers can take (Linux's default tcp_wmem max is 4 MiB).
const BIG = 64 * 2 ** 20;
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** A server whose one response is `writeReply` of a pooled `BIG` body; resolves with the client's response, unread. */
async function serveOne(pool: BodyPool): Promise<{ res: IncomingMessage; served: Promise<ServerResponse> }> {
  let servedResolve!: (r: ServerResponse) => void;
  const served = new Promise<ServerResponse>((r) => (servedResolve = r));
  server = createServer((_req, outgoing) => {
    const body = pool.take(BIG).fill(7);
    writeReply(outgoing, { kind: 'audio', headers: { 'content-type': 'audio/wav', 'content-length': String(BIG) }, body }, pool);
    servedResolve(outgoing);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.pause();
  return { res, served };
}

describe('writeReply with a pooled body', () => {
  it('gives the buffer back only after a slow client has read all of it', async () => {
    const pool = new BodyPool(2 * BIG);
    const { res, served } = await serveOne(pool);
    const outgoing = await served;
    await new Promise((r) => setTimeout(r, 200));
    expect(outgoing.writableFinished).toBe(false);
    expect(pool.keptBytes).toBe(0);
    let got = 0;
    res.on('data', (c: Buffer) => (got += c.length));
    res.resume();
    await new Promise((r) => res.once('end', r));
    await new Promise((r) => setImmediate(r));
    expect(got).toBe(BIG);
    expect(pool.keptBytes).toBe(BIG);
  });
});
