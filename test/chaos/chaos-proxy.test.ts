/**
 * The fault proxy itself: each fault does what its name says, against a tiny upstream that
 * answers a real WAV, so the scenarios can trust what they inject.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../node-runtime/src/audio/wav.ts';
import { call } from '../harness/index.ts';
import { ChaosProxy } from './faults/chaos-proxy.ts';
import { audioProblem } from './load/classify.ts';

const wav = encodeWav(
  new Int16Array(8000).map((_, i) => Math.round(8000 * Math.sin(i / 5))),
  16_000,
);
let upstream: http.Server;
let proxy: ChaosProxy;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length }).end(wav));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = await ChaosProxy.start(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});
beforeEach(() => proxy.set({ kind: 'pass' }));

const synth = () => call(proxy.url, undefined, { text: 'hi' });

describe('ChaosProxy', () => {
  it('passes a complete WAV through untouched', async () => {
    const r = await synth();
    expect(r.status).toBe(200);
    expect(audioProblem(r.headers['content-type'], r.headers['content-length'], r.body)).toBeNull();
  });

  it('cuts the WAV inside a well-formed response (truncate_wav)', async () => {
    proxy.set({ kind: 'truncate_wav', fraction: 0.5 });
    const r = await synth();
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(Math.floor(wav.length * 0.5));
    expect(audioProblem(r.headers['content-type'], r.headers['content-length'], r.body)).toMatch(/truncated/);
  });

  it('resets mid-body and ends early, so the client sees a broken transfer', async () => {
    for (const kind of ['reset_mid_body', 'truncate_body'] as const) {
      proxy.set({ kind, fraction: 0.5 });
      const r = await synth();
      expect(r.status, kind).toBe(0);
      expect(r.error, kind).toBeDefined();
    }
  });

  it('answers a 500 storm, delays, drips slowly, and counts what it faulted', async () => {
    const before = proxy.stats.faulted;
    proxy.set({ kind: 'status', status: 500 });
    expect((await synth()).status).toBe(500);
    proxy.set({ kind: 'delay', ms: 200 });
    expect((await synth()).ms).toBeGreaterThanOrEqual(190);
    proxy.set({ kind: 'slow_drip', chunkBytes: 4096, intervalMs: 50 });
    const dripped = await synth();
    expect(dripped.ms).toBeGreaterThanOrEqual(150);
    expect(audioProblem(dripped.headers['content-type'], dripped.headers['content-length'], dripped.body)).toBeNull();
    expect(proxy.stats.faulted - before).toBe(3);
  });

  it('goes down (connection refused) and comes back on the same port', async () => {
    const url = proxy.url;
    await proxy.down();
    // A kept-alive socket is reset; a new connection is refused.
    expect((await synth()).status).toBe(0);
    const refused = await synth();
    expect(refused.error).toMatch(/ECONNREFUSED/);
    await proxy.up();
    expect(proxy.url).toBe(url);
    expect((await synth()).status).toBe(200);
  });
});
