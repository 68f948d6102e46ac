import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LONG_TEXT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

// One slot and a queue of one: a third concurrent request must be refused at once.
let node: RuntimeProcess;
const VERY_LONG = Array.from({ length: 6 }, () => LONG_TEXT).join(' ');

beforeAll(async () => {
  node = await startRuntime(['--node-id', 'ovl-1', '--models-dir', 'models', '--models', 'flite', '--slots', '1', '--queue', '1']);
});
afterAll(async () => {
  await node.stop();
});
// Each test starts from an idle node, whatever the previous one left running.
beforeEach(async () => {
  for (let i = 0; i < 200; i++) {
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { inflight: number; queue_depth: number };
    if (load.inflight === 0 && load.queue_depth === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('node did not become idle');
});

async function timed(p: Promise<Response>) {
  const start = performance.now();
  const res = await p;
  const headersMs = performance.now() - start;
  const body = res.headers.get('content-type')?.startsWith('audio/') ? await res.arrayBuffer() : await res.json();
  return { res, headersMs, body };
}

describe('scheduler under overload', () => {
  it('refuses the overflow with 503 + Retry-After within 100 ms, and completes every admitted request', async () => {
    const admitted = [timed(synthesize(node.url, { text: VERY_LONG })), timed(synthesize(node.url, { text: VERY_LONG }))];
    // Give the two admitted requests time to take the slot and the queue place.
    await new Promise((r) => setTimeout(r, 150));
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { inflight: number; queue_depth: number };
    expect(load).toMatchObject({ inflight: 1, queue_depth: 1 });

    const overflow = await Promise.all(Array.from({ length: 6 }, () => timed(synthesize(node.url, { text: 'Too many.' }))));
    for (const r of overflow) {
      expect(r.res.status).toBe(503);
      expect(Number(r.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const { error } = r.body as { error: { code: string; retryable: boolean; trace_id: string } };
      expect(error).toMatchObject({ code: 'queue_full', retryable: true });
      // The node's own time to refuse (its access log) is the figure; the client-side time adds
      // this shared machine's scheduling noise, so it only has to beat the admitted work (> 1 s).
      const line = await waitForLog(node, (l) => l.trace_id === error.trace_id);
      expect(line?.cost_ms as number).toBeLessThan(100);
      expect(r.headersMs).toBeLessThan(1000);
    }
    for (const r of await Promise.all(admitted)) expect(r.res.status).toBe(200);
  });

  it('answers /healthz within 50 ms while every slot is busy', async () => {
    const busy = [synthesize(node.url, { text: VERY_LONG }), synthesize(node.url, { text: VERY_LONG })];
    await new Promise((r) => setTimeout(r, 100));
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      const res = await fetch(`${node.url}/healthz`);
      await res.text();
      latencies.push(performance.now() - start);
      expect(res.status).toBe(200);
    }
    latencies.sort((a, b) => a - b);
    // Seen from this process, a slow answer can be this process's own scheduling on a shared
    // machine; the node's own event-loop delay is the figure that proves it stayed responsive.
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(50);
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { inflight: number; event_loop_delay: { p99_ms: number } };
    expect(load.inflight).toBe(1);
    // monitorEventLoopDelay at 5 ms resolution reads ~5-10 ms on an idle loop.
    expect(load.event_loop_delay.p99_ms).toBeLessThan(50);
    for (const res of await Promise.all(busy)) expect(res.status).toBe(200);
  });

  it('drops a request whose budget runs out in the queue with 504, before it reaches the engine', async () => {
    const holder = synthesize(node.url, { text: VERY_LONG });
    await new Promise((r) => setTimeout(r, 50));
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const res = await synthesize(
      node.url,
      { text: 'I will wait briefly.' },
      { 'x-request-deadline-ms': '80', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('deadline_exceeded');
    expect((await holder).status).toBe(200);
    const line = await waitForLog(node, (l) => l.trace_id === traceId);
    expect(line).toMatchObject({ status: 504, error_code: 'deadline_exceeded' });
    // compute_ms is only logged for requests that ran on the engine.
    expect(line).not.toHaveProperty('compute_ms');
    expect(line).not.toHaveProperty('queue_ms');
  });

  it('never starts a request whose budget is already spent', async () => {
    const res = await synthesize(node.url, { text: 'Too late.' }, { 'x-request-deadline-ms': '0' });
    expect(res.status).toBe(504);
  });
});
