import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LONG_TEXT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

// One slot: batch work takes it only while no interactive request waits, and is reported apart.
let node: RuntimeProcess;
const VERY_LONG = Array.from({ length: 4 }, () => LONG_TEXT).join(' ');

beforeAll(async () => {
  node = await startRuntime(['--node-id', 'prio-1', '--models-dir', 'models', '--models', 'flite', '--slots', '1', '--queue', '4']);
});
afterAll(async () => {
  await node.stop();
});

interface Load {
  inflight: number;
  queue_depth: number;
  batch_inflight: number;
  batch_queue_depth: number;
}
const load = async (): Promise<Load> => (await (await fetch(`${node.url}/v1/load`)).json()) as Load;

describe('priority classes on the node', () => {
  it('reports batch work apart and starts a waiting interactive request before a waiting batch one', async () => {
    const first = synthesize(node.url, { text: VERY_LONG, priority: 'batch' });
    await new Promise((r) => setTimeout(r, 150));
    expect(await load()).toMatchObject({ inflight: 0, queue_depth: 0, batch_inflight: 1 });

    const order: string[] = [];
    const batch = synthesize(node.url, { text: 'Batch sentence.', priority: 'batch' }).then(async (r) => {
      order.push('batch');
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    const interactive = synthesize(node.url, { text: 'Interactive sentence.' }).then(async (r) => {
      order.push('interactive');
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await load()).toMatchObject({ queue_depth: 1, batch_queue_depth: 1 });
    const results = await Promise.all([first, batch, interactive]);
    for (const r of results) expect(r.status).toBe(200);
    expect(order).toEqual(['interactive', 'batch']);
  });

  it('refuses an unknown priority with 400', async () => {
    const res = await synthesize(node.url, { text: 'Hello.', priority: 'urgent' });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; trace_id: string } };
    expect(error.code).toBe('invalid_request');
    expect(await waitForLog(node, (l) => l.trace_id === error.trace_id)).toBeTruthy();
  });
});
