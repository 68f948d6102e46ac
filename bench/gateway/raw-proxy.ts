/**
 * The "speed of light for a Node proxy" baseline (docs/proxy-performance.md §2,
 * `raw-ustream`): node:http in, `undici.Pool.stream()` straight into the response out. Like the
 * gateway it reads the JSON body, checks the one field that matters, re-serialises it for the
 * node and copies content-type/length back, but it has no auth, limits, planning, breakers,
 * retries, metrics or logs. When the client hangs up, undici sees the destination close and
 * aborts the upstream request, so it frees its socket as a correct proxy must.
 *
 *   node --import tsx bench/gateway/raw-proxy.ts --upstream http://127.0.0.1:PORT [--connections 256]
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    connections: { type: 'string', default: '256' },
  },
});

const pool = new Pool(values.upstream!, { connections: Number(values.connections), headersTimeout: 0, bodyTimeout: 30_000, keepAliveTimeout: 10_000 });
const LIMIT = 64 * 1024;

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: 'proxy_error', message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(res: ServerResponse, body: string): void {
  pool.stream(
    { path: '/v1/synthesize', method: 'POST', headers: { 'content-type': 'application/json' }, body, opaque: res },
    ({ statusCode, headers, opaque }) => {
      const out = opaque as ServerResponse;
      const h: Record<string, string> = { 'content-type': String(headers['content-type'] ?? 'application/octet-stream') };
      if (headers['content-length'] !== undefined) h['content-length'] = String(headers['content-length']);
      out.writeHead(statusCode, h);
      return out;
    },
    (err) => {
      if (err) fail(res, 502, err.message);
    },
  );
}

const server = createServer({ keepAliveTimeout: 30_000 }, (req: IncomingMessage, res: ServerResponse) => {
  if (req.method !== 'POST') return fail(res, 405, 'POST only');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= LIMIT) chunks.push(c);
  });
  req.on('end', () => {
    if (size > LIMIT) return fail(res, 413, 'body too large');
    let parsed: { text?: unknown; voice?: unknown };
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed;
    } catch {
      return fail(res, 400, 'invalid json');
    }
    if (typeof parsed.text !== 'string') return fail(res, 400, 'text required');
    forward(res, JSON.stringify({ text: parsed.text, model: 'hd', voice: parsed.voice, format: 'wav' }));
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, pid: process.pid })}\n`,
  );
});
const stop = () => {
  server.close();
  void pool.destroy().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
