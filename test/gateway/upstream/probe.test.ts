/**
 * The health probe's timeout runs on the gateway clock: a node that never answers is reported
 * down when the clock says the timeout passed (manual time here, a real hung socket on 127.0.0.1).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/lifecycle/clock.ts';
import { probe } from '../../../gateway/src/upstream/health/probe.ts';

let server: Server;
let pool: Pool;
let answer = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (!answer) return; // hung: never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      req.url === '/v1/load' ? JSON.stringify({ ready: true, slots: 2, inflight: 0, queue_depth: 0, queue_limit: 8, latency_ewma_ms: 5 }) : '{"ready":true}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await pool?.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('health probe', () => {
  it('times out on the clock, not before', async () => {
    const clock = new ManualClock();
    let done = false;
    const result = probe(pool, 500, clock).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50)); // real time: the requests reach the hung server
    await clock.tick(499);
    expect(done).toBe(false);
    await clock.tick(1);
    const r = await result;
    expect(r).toMatchObject({ ok: false, refused: false });
    expect(r.error).toContain('no answer within 500 ms');
    expect(clock.pending()).toBe(0);
  });

  it('reports the load of a node that answers, and leaves no timer behind', async () => {
    answer = true;
    const clock = new ManualClock();
    const r = await probe(pool, 500, clock);
    expect(r).toMatchObject({ ok: true, load: { slots: 2, queueLimit: 8, at: clock.now() } });
    expect(clock.pending()).toBe(0);
  });
});
