import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readIncoming } from '../../../../gateway/src/request-path/admit/body.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** Serves one request into readIncoming and resolves with what it settled to. */
async function serveOne(limit: number, send: (port: number) => void): Promise<{ body?: Buffer; err?: unknown }> {
  let settled!: (v: { body?: Buffer; err?: unknown }) => void;
  const out = new Promise<{ body?: Buffer; err?: unknown }>((r) => (settled = r));
  server = createServer((req: IncomingMessage, res) => {
    readIncoming(req, req.headers['content-type'], limit).then(
      (body) => {
        settled({ body });
        res.end('ok');
      },
      (err) => {
        settled({ err });
        res.destroy();
      },
    );
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  send((server.address() as { port: number }).port);
  return out;
}

const post = (port: number, headers: Record<string, string>) => {
  const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-type': 'application/json', ...headers } });
  req.on('error', () => undefined);
  return req;
};

describe('readIncoming', () => {
  it('reads a body sent in several chunks', async () => {
    const r = await serveOne(1024, (port) => {
      const req = post(port, { 'transfer-encoding': 'chunked' });
      req.write('{"text":');
      setTimeout(() => req.end('"hi"}'), 10);
    });
    expect(r.body?.toString()).toBe('{"text":"hi"}');
  });

  it('refuses a chunked body that grows past the limit with body_too_large', async () => {
    const r = await serveOne(16, (port) => {
      const req = post(port, { 'transfer-encoding': 'chunked' });
      req.write('x'.repeat(10));
      setTimeout(() => req.end('y'.repeat(10)), 10);
    });
    expect(r.err).toMatchObject({ code: 'VOX_ERR_BODY_TOO_LARGE' });
  });

  it('fails (never hangs) when the client hangs up mid-body', async () => {
    const r = await serveOne(1024, (port) => {
      const req = post(port, { 'content-length': '100' });
      req.write('{"text":');
      setTimeout(() => req.destroy(), 10);
    });
    expect(r.err).toBeInstanceOf(Error);
  });
});
