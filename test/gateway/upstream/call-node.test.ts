import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamRequest } from '../../../gateway/src/upstream/service.ts';
import { systemClock } from '../../../gateway/src/lifecycle/clock.ts';
import { BodyPool } from '../../../gateway/src/upstream/body-pool.ts';
import { callNode } from '../../../gateway/src/upstream/call-node.ts';
import type { Endpoint } from '../../../gateway/src/upstream/endpoints.ts';
import { Pools } from '../../../gateway/src/upstream/pools.ts';

let server: Server;
let url: string;
let closedEarly = 0;
const pools = new Pools({ connections: 4, connectTimeoutMs: 1000 });
const svc = callNode({ pools, clock: systemClock, bufferMaxBytes: () => 1024, bodies: new BodyPool(2 ** 20) });

function wav(dataBytes: number, declared = dataBytes): Buffer {
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + declared, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(declared, 40);
  return b;
}

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await pools.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Routes the next request to `handler` (the body's `text` names the case). */
function answer(handler: (res: ServerResponse) => void): void {
  server.removeAllListeners('request');
  server.on('request', (req, res: ServerResponse) => {
    req.resume();
    res.once('close', () => {
      if (!res.writableFinished) closedEarly++;
    });
    handler(res);
  });
}

function request(signal = new AbortController().signal): UpstreamRequest {
  return {
    traceId: '0'.repeat(32),
    body: Buffer.from('{"text":"hi"}'),
    route: { model: 'm', regions: ['r'] },
    textLength: 2,
    deadlineAt: Date.now() + 5000,
    deadline: signal,
    signal,
    attempt: 1,
    tried: new Set(),
    attempts: [],
    endpoint: { id: 'n1', region: 'r', url } as Endpoint,
  };
}

describe('callNode', () => {
  it('buffers a small 200 whole, with its headers', async () => {
    const body = wav(100);
    answer((res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length, 'x-engine': 'e1' });
      res.end(body);
    });
    const r = await svc(request());
    expect(Buffer.isBuffer(r.body)).toBe(true);
    expect((r.body as Buffer).equals(body)).toBe(true);
    expect(r.headers['x-engine']).toBe('e1');
    expect(r.contentLength).toBe(body.length);
  });

  it('refuses a buffered WAV cut short inside as upstream_reset', async () => {
    const body = wav(100, 400);
    answer((res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length });
      res.end(body);
    });
    await expect(svc(request())).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_RESET' });
  });

  it('a body that ends short of its Content-Length is upstream_reset', async () => {
    answer((res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 500 });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(svc(request())).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_RESET' });
  });

  it('maps an error status with the node envelope', async () => {
    answer((res) => {
      const b = JSON.stringify({ error: { code: 'queue_full', message: 'full' } });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b), 'retry-after': '1' });
      res.end(b);
    });
    await expect(svc(request())).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_BUSY' });
  });

  it('streams a large body; destroying it frees the upstream request', async () => {
    const before = closedEarly;
    answer((res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 1 << 20 });
      res.write(Buffer.alloc(4096));
    });
    const r = await svc(request());
    const body = r.body as Readable;
    expect(Buffer.isBuffer(body)).toBe(false);
    const first = await new Promise<Buffer>((resolve) => body.once('data', resolve));
    expect(first.length).toBeGreaterThan(0);
    body.destroy();
    await expect.poll(() => closedEarly - before, { timeout: 2000 }).toBe(1);
  });

  it('the signal aborts while waiting for headers, with its own reason', async () => {
    const before = closedEarly;
    answer(() => undefined);
    const ctrl = new AbortController();
    const p = svc(request(ctrl.signal));
    setTimeout(() => ctrl.abort(Object.assign(new Error('try expired'), { code: 'TEST_ABORT' })), 50);
    await expect(p).rejects.toMatchObject({ code: 'TEST_ABORT' });
    await expect.poll(() => closedEarly - before, { timeout: 2000 }).toBe(1);
  });

  it('the signal aborts a streaming body and the upstream request', async () => {
    const before = closedEarly;
    answer((res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': 1 << 20 });
      res.write(Buffer.alloc(4096));
    });
    const ctrl = new AbortController();
    const r = await svc(request(ctrl.signal));
    const body = r.body as Readable;
    const failed = new Promise<unknown>((resolve) => body.once('error', resolve));
    ctrl.abort(new Error('client left'));
    expect(await failed).toMatchObject({ message: 'client left' });
    await expect.poll(() => closedEarly - before, { timeout: 2000 }).toBe(1);
  });

  it('a refused connection is upstream_connect', async () => {
    const r = request();
    r.endpoint = { id: 'gone', region: 'r', url: 'http://127.0.0.1:1' } as Endpoint;
    await expect(svc(r)).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_CONNECT' });
  });
});
