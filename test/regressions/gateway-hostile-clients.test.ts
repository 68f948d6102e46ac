/**
 * Hostile clients against a real gateway (real simulator node behind it), on raw sockets:
 *  - uploads cut off mid-body (content-length or chunked; FIN or RST) and a malformed chunk are
 *    client_gone (499, info), never `internal`; a deadline the client chose is answered 504 and
 *    recorded client_gone; the 5xx counter does not move through any of it;
 *  - a chunked body over the limit gets its 413 before the connection closes;
 *  - the rate-limit token and a per-tenant upload slot are taken before the body is read, so
 *    slow uploads cannot pile up past admission; headers and bodies trickled a byte at a time
 *    are cut off by the server's timeouts, and connections are capped;
 *  - `application/json-seq`, a non-UTF-8 charset and invalid UTF-8 are refused with stable codes;
 *  - status/metrics/canary pages follow `exposure`, node URLs shown only with the admin token;
 *  - the access line of a request whose attempts all failed says how many there were.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, deepMerge, SIM_MODELS_DIR, simOverrides } from '../harness/config.ts';
import { startGateway, startNode, type GatewayHandle, type NodeHandle } from '../harness/cluster.ts';
import { call, getJson, metricValue } from '../harness/client.ts';
import { startStubNode, type StubNode } from '../harness/stub-node.ts';
import type { LogLine } from '../harness/processes.ts';
import { abandonUpload, chunkedUpload, malformedChunk, slowloris } from './support/hostile-socket.ts';

const ADMIN = 'hardening-admin-token-0123456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let node: NodeHandle;
let stub: StubNode;
let gw: GatewayHandle;

beforeAll(async () => {
  node = await startNode('n1', 'north', { modelsDir: SIM_MODELS_DIR });
  // A node that fails every synthesis: the requests routed to it fail after every attempt.
  stub = await startStubNode((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const body = JSON.stringify({ error: { code: 'internal', message: 'stub failure', retryable: false } });
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  const sim = simOverrides();
  const plans = sim['plans'] as Record<string, Record<string, unknown>>;
  const config = deepMerge(baseConfig(), {
    ...sim,
    // Not a local config: keys are hashes, and node URLs are not shown to anyone by default.
    local: false,
    models: [...(sim['models'] as object[]), { id: 'broken', role: 'primary', engine: 'flite', pack: 'flite', languages: ['en'], voices: ['slt'] }],
    plans: {
      ...plans,
      free: { ...plans['free'], rate_limit: { rps: 0.1, burst: 2 } },
      broken: { ...plans['enterprise'], primary: 'broken', fallback: 'broken' },
    },
    keys: ['demo-free', 'demo-pro', 'demo-enterprise', 'demo-broken'].map((k) => ({ sha256: sha(k), tenant: k, plan: k.slice(5) })),
    regions: [
      {
        name: 'north',
        nodes: [
          { id: 'n1', url: node.url, models: ['sim-hd', 'sim-fast'] },
          { id: 'stub', url: stub.url, models: ['broken'] },
        ],
      },
    ],
    admission: { max_concurrency: 64, max_uploads_per_tenant: 3 },
    server: { headers_timeout_ms: 1000, request_timeout_ms: 2000, keep_alive_timeout_ms: 1000, max_connections: 64 },
    exposure: { status: 'public', metrics: 'token', canary: 'off' },
    retry: { max_attempts: 3 },
  });
  gw = await startGateway(config, { env: { VOXGATE_ADMIN_TOKEN: ADMIN } });
}, 90_000);

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await node?.proc.kill();
  await stub?.close();
});

const target = (key = 'demo-pro') => ({ url: gw.url, path: '/v1/synthesize', headers: { authorization: `Bearer ${key}` } });
const metrics = async () =>
  (await call(gw.url, undefined, undefined, { method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } })).body.toString();
const fivexx = async () => metricValue(await metrics(), 'voxgate_gateway_responses_5xx_total');
const accessLines = (from: number): LogLine[] => gw.proc.logs.slice(from).filter((l) => l.msg === 'request completed' || l.msg === 'request failed');

async function nextAccessLine(from: number): Promise<LogLine> {
  return gw.proc.waitForLog((l) => gw.proc.logs.indexOf(l) >= from && (l.msg === 'request completed' || l.msg === 'request failed'), 5_000);
}

describe('client faults are client_gone, never a 5xx', () => {
  let before5xx = 0;
  let fromLine = 0;
  beforeAll(async () => {
    before5xx = await fivexx();
    fromLine = gw.proc.logs.length;
  });

  it.each([
    ['content-length', 'fin'],
    ['content-length', 'rst'],
    ['chunked', 'fin'],
    ['chunked', 'rst'],
  ] as const)('an upload cut off mid-body (%s, %s)', async (framing, hangUp) => {
    const from = gw.proc.logs.length;
    await abandonUpload(target(), framing, hangUp);
    expect(await nextAccessLine(from)).toMatchObject({ status: 499, outcome: 'client_gone', error_code: 'client_closed', level: 30 });
  });

  it('a malformed chunk', async () => {
    const from = gw.proc.logs.length;
    const answer = await malformedChunk(target());
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await nextAccessLine(from)).toMatchObject({ status: 499, outcome: 'client_gone' });
  });

  it('a deadline the client chose (x-request-timeout-ms: 1): 504 deadline_exceeded to the client, client_gone in the books', async () => {
    const from = gw.proc.logs.length;
    const r = await call(gw.url, 'demo-pro', { text: 'a deadline far too short for any node' }, { headers: { 'x-request-timeout-ms': '1' } });
    expect(r.status).toBe(504);
    expect((r.json as { error: { code: string } }).error.code).toBe('deadline_exceeded');
    expect(await nextAccessLine(from)).toMatchObject({ status: 499, outcome: 'client_gone', error_code: 'client_deadline' });
  });

  it('after all of them: no error-level line, the 5xx counter unchanged, client_gone counted', async () => {
    expect(gw.proc.logs.slice(fromLine).filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(await fivexx()).toBe(before5xx);
    expect(metricValue(await metrics(), 'voxgate_gateway_outcomes_total', { outcome: 'client_gone' })).toBeGreaterThanOrEqual(6);
    expect(accessLines(fromLine).filter((l) => l.status === 500)).toEqual([]);
  });
});

describe('bodies and admission', () => {
  it('a chunked body over the limit gets its 413 written before the connection closes', async () => {
    const answer = await chunkedUpload(target(), 80 * 1024);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('body_too_large');
  });

  it('refuses application/json-seq and a non-UTF-8 charset (415), and invalid UTF-8 (400 invalid_encoding)', async () => {
    const seq = await call(gw.url, 'demo-pro', undefined, { raw: '{"text":"hi"}', headers: { 'content-type': 'application/json-seq' } });
    expect([seq.status, (seq.json as { error: { code: string } }).error.code]).toEqual([415, 'unsupported_media_type']);
    const latin = await call(gw.url, 'demo-pro', undefined, { raw: '{"text":"hi"}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
    expect(latin.status).toBe(415);
    const bad = await call(gw.url, 'demo-pro', undefined, { raw: Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from(' ok"}')]) });
    expect([bad.status, (bad.json as { error: { code: string } }).error.code]).toEqual([400, 'invalid_encoding']);
    const ok = await call(gw.url, 'demo-pro', undefined, { raw: '{"text":"café ok"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(ok.status).toBe(200);
  });

  it('takes the rate-limit token before the body: slow uploads use up the burst, the next is 429 at once', async () => {
    // free: burst 2, 0.1 rps. Two uploads that never finish their body hold both tokens.
    const slow = [slowloris(target('demo-free'), 'body', 200, 4_000), slowloris(target('demo-free'), 'body', 200, 4_000)];
    await new Promise((r) => setTimeout(r, 300));
    const r = await call(gw.url, 'demo-free', { text: 'hello' });
    expect([r.status, (r.json as { error: { code: string } }).error.code]).toEqual([429, 'rate_limited']);
    expect(r.headers['retry-after']).toBeDefined();
    await Promise.all(slow);
  });

  it("caps one tenant's uploads in progress; another tenant is still served", async () => {
    const slow = [0, 1, 2].map(() => slowloris(target('demo-pro'), 'body', 200, 4_000));
    await new Promise((r) => setTimeout(r, 300));
    const r = await call(gw.url, 'demo-pro', { text: 'hello' });
    expect([r.status, (r.json as { error: { code: string } }).error.code]).toEqual([429, 'concurrency_limited']);
    expect((await call(gw.url, 'demo-enterprise', { text: 'hello' })).status).toBe(200);
    await Promise.all(slow);
    expect((await call(gw.url, 'demo-pro', { text: 'hello again' })).status).toBe(200);
  });

  it('cuts off trickled headers (1 s) and a trickled body (2 s, recorded client_gone)', async () => {
    const headers = await slowloris(target(), 'headers', 200, 15_000);
    expect(headers.closedByServer).toBe(true);
    expect(headers.openMs).toBeLessThan(8_000);
    const from = gw.proc.logs.length;
    const body = await slowloris(target(), 'body', 200, 15_000);
    expect(body.closedByServer).toBe(true);
    expect(body.openMs).toBeLessThan(9_000);
    expect(await nextAccessLine(from)).toMatchObject({ status: 499, outcome: 'client_gone' });
  });

  it('closes connections past max_connections as they arrive', async () => {
    const u = new URL(gw.url);
    const sockets = await Promise.all(
      Array.from(
        { length: 64 },
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    try {
      const r = await call(gw.url, 'demo-pro', { text: 'one too many' });
      expect(r.status).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await call(gw.url, 'demo-pro', { text: 'room again' })).status).toBe(200);
  });
});

describe('operational pages and access lines', () => {
  it('/v1/status keeps its shape but shows node URLs only with the admin token', async () => {
    type Status = { region: string; regions: { name: string; nodes: { id: string; url?: string; healthy: boolean }[] }[] };
    const anon = (await getJson(`${gw.url}/v1/status`)) as Status;
    expect(anon.region).toBe('north');
    expect(anon.regions[0]!.nodes.map((n) => n.id).sort()).toEqual(['n1', 'stub']);
    expect(anon.regions[0]!.nodes.every((n) => n.url === undefined)).toBe(true);
    expect(JSON.stringify(anon)).not.toContain('127.0.0.1');
    const op = await call(gw.url, undefined, undefined, { method: 'GET', path: '/v1/status', headers: { authorization: `Bearer ${ADMIN}` } });
    expect((op.json as Status).regions[0]!.nodes.find((n) => n.id === 'n1')!.url).toBe(node.url);
  });

  it('metrics need the token (401 without, 200 with); canary pages are off (404)', async () => {
    expect((await call(gw.url, undefined, undefined, { method: 'GET', path: '/metrics' })).status).toBe(401);
    expect(
      (await call(gw.url, undefined, undefined, { method: 'GET', path: '/metrics', headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status,
    ).toBe(401);
    expect(await metrics()).toContain('voxgate_gateway_requests_total');
    for (const path of ['/canary', '/v1/canary/report']) expect((await call(gw.url, undefined, undefined, { method: 'GET', path })).status).toBe(404);
  });

  it('the access line of a request whose attempts all failed counts them', async () => {
    const from = gw.proc.logs.length;
    const r = await call(gw.url, 'demo-broken', { text: 'this node always fails' });
    expect(r.status).toBe(503);
    const line = await nextAccessLine(from);
    expect(line.attempts).toBeGreaterThanOrEqual(1);
    expect((line.attempt_log as unknown[] | undefined)?.length ?? line.attempts).toBe(line.attempts);
  });
});
