/**
 * The gateway's front doors answer alike. One route table (http/routes.ts) builds both the Node
 * listener production serves and the Hono app; this runs the same requests through
 *   - `listener`: the Node listener on 127.0.0.1 (synthesis on the fast path, no Hono),
 *   - `listener+hono`: the same with a query string, so synthesis goes through Hono under
 *     @hono/node-server (which hands it back to the Node path),
 *   - `app`: `app.request()`, the web path (web Request in, web Response out),
 * and checks each answer against the contract and against the other doors. The node is an
 * in-process stub on 127.0.0.1 answering a fixed WAV per text.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../../node-runtime/src/audio/wav.ts';

/** Samples, not bytes: the gateway streams WAV with an open-ended header. */
const pcmHash = (wav: Buffer): string => createHash('sha256').update(decodeWav(wav).samples).digest('hex');
import { parseConfig } from '../../../gateway/src/config/load.ts';
import { createGateway, type Gateway } from '../../../gateway/src/gateway.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { baseConfig, deepMerge } from '../../harness/config.ts';
import { startStubNode, type StubNode } from '../../harness/stub-node.ts';

let node: StubNode;
let gw: Gateway;
let server: Server;
let base: string;
let raw: Record<string, unknown>;

function audioFor(text: string): Buffer {
  const seed = createHash('sha256').update(text).digest();
  const pcm = new Int16Array(2_000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = seed[i % 32]! * 31 + i;
  return encodeWav(pcm, 24_000);
}

beforeAll(async () => {
  node = await startStubNode(
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { text } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string };
        const wav = audioFor(text);
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length, 'x-sample-rate': '24000', 'x-model-version': 'stub-1' });
        res.end(wav);
      });
    },
    { latencyMs: 5 },
  );
  raw = deepMerge(baseConfig(), {
    region: 'north',
    regions: [{ name: 'north', priority: 0, nodes: [{ id: 'n1', url: node.url, models: ['flite-hd', 'flite-fast'] }] }],
    admission: { body_limit_bytes: 1024 },
  });
  gw = createGateway(parseConfig(raw), { logger: createLogger({ level: 'silent' }) });
  await gw.ready;
  server = createServer(gw.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await gw?.close();
  await node?.close();
});

interface Ask {
  method: string;
  path: string;
  key?: string;
  body?: string | object;
  headers?: Record<string, string>;
  /** The body changes from one call to the next (live figures): doors are compared on the rest. */
  volatile?: boolean;
}

/** What the contract fixes about an answer; trace ids vary per request and are checked apart. */
interface Answer {
  status: number;
  type: string | null;
  headers: Record<string, string | null>;
  json: unknown;
  audio: string | undefined;
  bytes: number;
  traceId: string | null;
}

const KEPT = ['retry-after', 'x-model', 'x-node', 'x-region', 'x-attempts', 'x-sample-rate', 'x-model-version', 'content-length'];

async function read(res: Response): Promise<Answer> {
  const buf = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type');
  let json: unknown;
  if (type?.includes('json')) {
    json = JSON.parse(buf.toString('utf8'));
    const err = (json as { error?: { trace_id?: string } }).error;
    if (err?.trace_id !== undefined) err.trace_id = '<trace>';
  }
  const headers: Record<string, string | null> = {};
  for (const h of KEPT) headers[h] = res.headers.get(h);
  // /metrics and the pages are checked for what they are, not byte for byte (they change per call).
  if (!type?.startsWith('audio/')) headers['content-length'] = null;
  return {
    status: res.status,
    type,
    headers,
    json,
    audio: type === 'audio/wav' ? pcmHash(buf) : type?.startsWith('audio/') ? createHash('sha256').update(buf).digest('hex') : undefined,
    bytes: buf.length,
    traceId: res.headers.get('x-trace-id'),
  };
}

function init(a: Ask): RequestInit {
  const headers: Record<string, string> = {
    ...(a.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(a.key ? { authorization: `Bearer ${a.key}` } : {}),
    ...a.headers,
  };
  return { method: a.method, headers, ...(a.body !== undefined ? { body: typeof a.body === 'string' ? a.body : JSON.stringify(a.body) } : {}) };
}

const DOORS = {
  listener: async (a: Ask) => read(await fetch(`${base}${a.path}`, init(a))),
  'listener+hono': async (a: Ask) => read(await fetch(`${base}${a.path}${a.path.includes('?') ? '&' : '?'}door=hono`, init(a))),
  app: async (a: Ask) => read(await gw.app.request(a.path, init(a))),
} as const;

/** Asks every door; returns the listener's answer after checking the others match it. */
async function everyDoor(a: Ask): Promise<Answer> {
  const answers: Record<string, Answer> = {};
  for (const [name, door] of Object.entries(DOORS)) answers[name] = await door(a);
  const first = answers['listener']!;
  if (a.volatile)
    for (const x of Object.values(answers)) {
      x.json = x.audio = undefined;
      x.bytes = 0;
    }
  // The model is chosen from live pool load (a loaded machine can make the pool look busy for one
  // request and not the next): that is the planner's business, not the door's.
  const comparable = (x: Answer) => ({
    ...x,
    traceId: typeof x.traceId,
    headers: { ...x.headers, 'x-model': x.headers['x-model'] === null ? null : 'a model' },
  });
  for (const [name, other] of Object.entries(answers)) {
    expect({ door: name, ...comparable(other) }, `${a.method} ${a.path} via ${name}`).toEqual({ door: name, ...comparable(first) });
  }
  return first;
}

/** Routes whose body carries live figures or the time it was made. */
const LIVE = new Set(['/v1/status', '/metrics', '/v1/canary/report', '/canary']);

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('front doors (one route table, three ways in)', () => {
  it('synthesis: the same audio and contract headers, native and OpenAI', async () => {
    const native = await everyDoor({ method: 'POST', path: '/v1/synthesize', key: 'demo-enterprise', body: { text: 'Every door speaks alike.' } });
    expect(native).toMatchObject({ status: 200, type: 'audio/wav', audio: pcmHash(audioFor('Every door speaks alike.')) });
    expect(['flite-hd', 'flite-fast']).toContain(native.headers['x-model']);
    expect(native.headers).toMatchObject({
      'x-node': 'n1',
      'x-region': 'north',
      'x-attempts': '1',
      'x-sample-rate': '24000',
      'x-model-version': 'stub-1',
      'content-length': null,
    });
    // Streamed (chunked): every door sends the audio as it is made, none with a length up front.
    expect(native.traceId).toMatch(/^[0-9a-f]{32}$/);
    const openai = await everyDoor({
      method: 'POST',
      path: '/v1/audio/speech',
      key: 'demo-enterprise',
      body: { model: 'tts-1-hd', input: 'Every door speaks alike.', voice: 'alloy', response_format: 'wav' },
    });
    expect(openai).toMatchObject({ status: 200, type: 'audio/wav', audio: native.audio });
  });

  it('takes the trace id from traceparent through every door', async () => {
    for (const door of Object.values(DOORS)) {
      const a = await door({ method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: { text: 'Traced.' }, headers: { traceparent: TRACEPARENT } });
      expect([a.status, a.traceId]).toEqual([200, '4bf92f3577b34da6a3ce929d0e0e4736']);
    }
  });

  it('admission errors: same status, code and envelope through every door', async () => {
    const cases: [Ask, number, string][] = [
      [{ method: 'POST', path: '/v1/synthesize', body: { text: 'x' } }, 401, 'unauthorized'],
      [{ method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: 'not json' }, 400, 'invalid_json'],
      [{ method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: { text: '' } }, 400, 'invalid_request'],
      [{ method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: 'x', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
      [{ method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: { text: 'a'.repeat(2_000) } }, 413, 'body_too_large'],
      [{ method: 'GET', path: '/v1/synthesize', key: 'demo-pro' }, 405, 'method_not_allowed'],
      [{ method: 'GET', path: '/v1/nowhere' }, 404, 'not_found'],
    ];
    for (const [ask, status, code] of cases) {
      const a = await everyDoor(ask);
      expect([a.status, (a.json as { error: { code: string } }).error.code], `${ask.method} ${ask.path}`).toEqual([status, code]);
      expect(a.json).toEqual({ error: { code, message: expect.any(String), trace_id: '<trace>', retryable: false } });
    }
    // The OpenAI route answers in OpenAI's shape, 405 included.
    const openai = await everyDoor({ method: 'POST', path: '/v1/audio/speech', body: { model: 'tts-1', input: 'x', voice: 'alloy' } });
    expect(openai).toMatchObject({ status: 401, json: { error: { code: 'unauthorized', type: 'authentication_error', param: null } } });
    const get = await everyDoor({ method: 'GET', path: '/v1/audio/speech' });
    expect(get).toMatchObject({ status: 405, json: { error: { code: 'method_not_allowed', type: 'invalid_request_error' } } });
  });

  it('every route in the table answers through every door, and refuses other methods with 405', async () => {
    expect(gw.routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        'GET /',
        'GET /canary',
        'GET /healthz',
        'GET /metrics',
        'GET /readyz',
        'GET /v1/canary/report',
        'GET /v1/status',
        'POST /v1/audio/speech',
        'POST /v1/synthesize',
      ].sort(),
    );
    const types: Record<string, string> = {};
    for (const r of gw.routes.filter((x) => x.method === 'GET')) {
      const a = await everyDoor({ method: 'GET', path: r.path, volatile: LIVE.has(r.path) });
      expect(a.status, r.path).toBe(200);
      types[r.path] = a.type!.split(';')[0]!;
    }
    expect(types).toEqual({
      '/': 'text/html',
      '/canary': 'text/html',
      '/healthz': 'application/json',
      '/metrics': 'text/plain',
      '/readyz': 'application/json',
      '/v1/canary/report': 'application/json',
      '/v1/status': 'application/json',
    });
    for (const r of gw.routes) {
      const a = await everyDoor({ method: r.method === 'GET' ? 'DELETE' : 'GET', path: r.path });
      expect(a.status, r.path).toBe(405);
    }
  });
});

/** The raw answer of each door, for headers the comparison above leaves out. */
async function heads(a: Ask): Promise<Record<string, Response>> {
  const out: Record<string, Response> = {};
  out['listener'] = await fetch(`${base}${a.path}`, init(a));
  out['listener+hono'] = await fetch(`${base}${a.path}${a.path.includes('?') ? '&' : '?'}door=hono`, init(a));
  out['app'] = await gw.app.request(a.path, init(a));
  for (const r of Object.values(out)) await r.arrayBuffer();
  return out;
}

describe('headers every door adds', () => {
  it('echoes a valid x-request-id and traceparent on answers and errors, and ignores an invalid id', async () => {
    const asks: Ask[] = [
      { method: 'POST', path: '/v1/synthesize', key: 'demo-pro', body: { text: 'Echo.' } },
      { method: 'POST', path: '/v1/synthesize', body: { text: 'Echo.' } },
      { method: 'GET', path: '/v1/nowhere' },
      { method: 'GET', path: '/healthz' },
    ];
    for (const ask of asks)
      for (const [door, res] of Object.entries(await heads({ ...ask, headers: { 'x-request-id': 'req-42/a', traceparent: TRACEPARENT.toUpperCase() } }))) {
        const what = `${ask.method} ${ask.path} via ${door}`;
        expect(res.headers.get('x-request-id'), what).toBe('req-42/a');
        expect(res.headers.get('traceparent'), what).toBe(TRACEPARENT);
      }
    for (const res of Object.values(await heads({ method: 'GET', path: '/healthz', headers: { 'x-request-id': 'has space' } }))) {
      expect(res.headers.get('x-request-id')).toBeNull();
      expect(res.headers.get('traceparent')).toBeNull();
    }
  });

  it("404 and 405 answers carry a real trace id: the client's, or a fresh one", async () => {
    for (const ask of [
      { method: 'GET', path: '/v1/nowhere' },
      { method: 'GET', path: '/v1/synthesize' },
    ] as Ask[]) {
      for (const res of Object.values(await heads(ask))) expect(res.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
      for (const res of Object.values(await heads({ ...ask, headers: { traceparent: TRACEPARENT } })))
        expect(res.headers.get('x-trace-id')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    }
  });

  it('CORS: off by default (a preflight is 405); configured origins get preflights and allow headers, others nothing', async () => {
    const preflight: Ask = {
      method: 'OPTIONS',
      path: '/v1/synthesize',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    };
    for (const res of Object.values(await heads(preflight))) {
      expect(res.status).toBe(405);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(gw.reload(parseConfig(deepMerge(raw, { cors: { allow_origins: ['https://app.example'], max_age_s: 120 } }))).ok).toBe(true);
    try {
      for (const [door, res] of Object.entries(await heads(preflight))) {
        expect(
          [
            res.status,
            res.headers.get('access-control-allow-origin'),
            res.headers.get('access-control-allow-methods'),
            res.headers.get('access-control-max-age'),
          ],
          door,
        ).toEqual([204, 'https://app.example', 'POST', '120']);
        expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      }
      const synth = await heads({
        method: 'POST',
        path: '/v1/synthesize',
        key: 'demo-pro',
        body: { text: 'From a browser.' },
        headers: { origin: 'https://app.example' },
      });
      for (const [door, res] of Object.entries(synth)) {
        expect([res.status, res.headers.get('access-control-allow-origin')], door).toEqual([200, 'https://app.example']);
        expect(res.headers.get('access-control-expose-headers')).toContain('x-trace-id');
      }
      for (const [door, res] of Object.entries(await heads({ ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } }))) {
        expect([res.status, res.headers.get('access-control-allow-origin')], door).toEqual([405, null]);
      }
    } finally {
      expect(gw.reload(parseConfig(raw)).ok).toBe(true);
    }
  });
});
