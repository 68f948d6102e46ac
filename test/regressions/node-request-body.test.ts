/**
 * The gateway benchmarks found that reading `c.req.raw.body` / `.signal` made @hono/node-server
 * build a full web Request per request, ~30-40 % of the gateway's CPU per request; the request
 * path now reads the Node request itself (admit/body.ts `readIncoming`) and watches the response
 * for a client hang-up (its `close` event aborts the deadline). These checks pin the behaviour
 * that must not change, on a real gateway process: 415 and 413 as before, 400 for a bad body,
 * and a client that hangs up while its request waits on a node still cancels the upstream
 * request.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, deepMerge } from '../harness/config.ts';
import { startGateway, type GatewayHandle } from '../harness/cluster.ts';
import { call, waitFor } from '../harness/client.ts';
import { startStubNode, type StubNode } from '../harness/stub-node.ts';

let node: StubNode;
let gw: GatewayHandle;
let hung = 0;
let closedEarly = 0;

beforeAll(async () => {
  // A node that is healthy, serves both packs and never answers a synthesis.
  node = await startStubNode((req, res) => {
    hung++;
    req.resume();
    res.once('close', () => closedEarly++);
  });
  const config = deepMerge(baseConfig(), {
    region: 'north',
    regions: [{ name: 'north', priority: 0, nodes: [{ id: 'n1', url: node.url, models: ['flite-hd', 'flite-fast'] }] }],
  });
  gw = await startGateway(config);
});

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await node?.close();
});

describe('request body and client hang-up under @hono/node-server', () => {
  it('refuses a non-JSON content type with 415', async () => {
    const r = await call(gw.url, 'demo-pro', undefined, { raw: 'text=hi', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(415);
    expect((r.json as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });

  it('refuses a declared body over the limit with 413', async () => {
    const r = await call(gw.url, 'demo-pro', undefined, { raw: JSON.stringify({ text: 'x'.repeat(70_000) }) });
    expect(r.status).toBe(413);
  });

  it('answers 400 for invalid JSON and for a body that fails the schema', async () => {
    expect((await call(gw.url, 'demo-pro', undefined, { raw: '{"text":' })).status).toBe(400);
    expect((await call(gw.url, 'demo-pro', { text: 42 })).status).toBe(400);
  });

  it('cancels the upstream request when the client hangs up while it waits', async () => {
    const before = closedEarly;
    const u = new URL(gw.url);
    const body = JSON.stringify({ text: 'Hello there.' });
    const sock = connect(Number(u.port), u.hostname);
    sock.on('error', () => undefined);
    sock.write(
      `POST /v1/synthesize HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer demo-pro\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await waitFor(() => hung > 0, 10_000, 20);
    sock.destroy();
    // The node sees its request closed long before the gateway's 1.5 s per-try timeout.
    const ms = await waitFor(() => closedEarly > before, 5_000, 20);
    expect(ms).toBeLessThan(1_000);
    // And the gateway still serves.
    expect((await call(gw.url, 'demo-pro', undefined, { raw: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });
});
