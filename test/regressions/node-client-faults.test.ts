/**
 * A hostile or careless client cannot make a node runtime report a server error, hold a
 * connection past the server's limits, or crash it at start: real node processes, real sockets.
 *  - uploads cut off mid-body (content-length or chunked; FIN or RST) and a malformed chunk end
 *    as client-gone (499 in the access log at info level), counted apart, never `internal`;
 *  - headers or a body trickled a byte at a time are cut off by the configured timeouts, and
 *    connections past the cap are refused;
 *  - an empty VOXGATE_ADMIN_TOKEN runs the node without admin endpoints (and says so);
 *  - text length is counted in code points, the way the gateway counts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from '../node-runtime/support/runtime-process.ts';
import { abandonUpload, malformedChunk, openIdle, slowloris } from './support/hostile-socket.ts';

const SIM_MODELS = path.join(REPO_ROOT, 'test/fixtures/models/sim');
let node: RuntimeProcess;
let configDir: string;

async function metric(url: string, name: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

beforeAll(async () => {
  configDir = await mkdtemp(path.join(tmpdir(), 'voxgate-node-limits-'));
  const config = path.join(configDir, 'node.yaml');
  await writeFile(
    config,
    [
      'max_text_chars: 10',
      'server:',
      '  headers_timeout_ms: 1000',
      '  request_timeout_ms: 2000',
      '  keep_alive_timeout_ms: 1000',
      '  max_connections: 8',
      '',
    ].join('\n'),
  );
  // The empty token is part of the setup: before the fix this process never got to "listening".
  node = await startRuntime(['--config', config, '--models-dir', SIM_MODELS], { VOXGATE_ADMIN_TOKEN: '' });
});

afterAll(async () => {
  await node?.stop();
  await rm(configDir, { recursive: true, force: true });
});

describe('node runtime: client faults are not server errors', () => {
  it.each([
    ['content-length', 'fin'],
    ['content-length', 'rst'],
    ['chunked', 'fin'],
    ['chunked', 'rst'],
  ] as const)('an upload cut off mid-body (%s, %s) is client-gone, not a 500', async (framing, hangUp) => {
    const before = node.logs.length;
    await abandonUpload({ url: node.url, path: '/v1/synthesize' }, framing, hangUp);
    const line = await waitForLog(node, (l) => node.logs.indexOf(l) >= before && l.msg === 'request completed');
    expect(line).toMatchObject({ status: 499, error_code: 'client_closed_request', client_gone: 'body', level: 30 });
  });

  it("a malformed chunk gets Node's 400 and is logged as client-gone", async () => {
    const before = node.logs.length;
    const answer = await malformedChunk({ url: node.url, path: '/v1/synthesize' });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const line = await waitForLog(node, (l) => node.logs.indexOf(l) >= before && l.msg === 'request completed');
    expect(line).toMatchObject({ status: 499, client_gone: 'body' });
  });

  it('after all of them: nothing at error level, no internal in the request counter, client-gone counted', async () => {
    expect(node.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(await metric(node.url, 'voxgate_node_requests_total{code="internal"')).toEqual([]);
    const gone = await metric(node.url, 'voxgate_node_client_gone_total{stage="body"}');
    expect(Number(gone[0]?.split(' ')[1])).toBeGreaterThanOrEqual(5);
  });
});

describe('node runtime: server limits a slowloris cannot outlast', () => {
  it('cuts off headers trickled a byte at a time (headers timeout 1 s)', async () => {
    const r = await slowloris({ url: node.url, path: '/v1/synthesize' }, 'headers', 200, 15_000);
    expect(r.closedByServer).toBe(true);
    // Generous: the check runs every 250 ms, and this machine is shared.
    expect(r.openMs).toBeLessThan(8_000);
  });

  it('cuts off a body trickled a byte at a time (request timeout 2 s), as client-gone', async () => {
    const before = node.logs.length;
    const r = await slowloris({ url: node.url, path: '/v1/synthesize' }, 'body', 200, 15_000);
    expect(r.closedByServer).toBe(true);
    expect(r.openMs).toBeLessThan(9_000);
    const line = await waitForLog(node, (l) => node.logs.indexOf(l) >= before && l.msg === 'request completed');
    expect(line).toMatchObject({ status: 499, client_gone: 'body' });
  });

  it('closes a connection that never sends a byte', async () => {
    const r = await slowloris({ url: node.url, path: '/v1/synthesize' }, 'headers', 60_000, 15_000);
    expect(r.closedByServer).toBe(true);
    expect(r.openMs).toBeLessThan(8_000);
  });

  it('refuses connections past max_connections and serves again once they go', async () => {
    const idle = await openIdle({ url: node.url, path: '/' }, 8);
    try {
      const refused = await fetch(`${node.url}/healthz`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
    } finally {
      for (const s of idle) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });
});

describe('node runtime: configuration a careless operator can get wrong', () => {
  it('an empty VOXGATE_ADMIN_TOKEN runs without admin endpoints, with a warning', async () => {
    expect(node.logs.some((l) => l.level === 40 && String(l.msg).includes('admin endpoints are disabled'))).toBe(true);
    expect((await fetch(`${node.url}/admin/models/reload`, { method: 'POST' })).status).toBe(404);
  });

  it('counts text in code points: 10 emoji fit a 10-character limit, 11 do not', async () => {
    const ok = await synthesize(node.url, { text: '😀'.repeat(10), model: 'sim-fallback' });
    await ok.arrayBuffer();
    expect(ok.status).toBe(200);
    const tooLong = await synthesize(node.url, { text: '😀'.repeat(11), model: 'sim-fallback' });
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'text_too_long',
      message: expect.stringContaining('11 characters'),
    });
  });
});
