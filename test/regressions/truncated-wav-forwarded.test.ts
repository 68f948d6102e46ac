/**
 * Regression (found by the chaos proving ground, scenario 6): a node that answers
 * 200 with a well-formed HTTP body holding a truncated WAV (content-length matches the short
 * body, but the WAV's data chunk declares more samples than it carries) had its audio forwarded
 * to the client as a success. An incomplete WAV is a failure and must be retried elsewhere.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../harness/index.ts';
import { startChaosCluster, type ChaosCluster } from '../chaos/cluster/chaos-cluster.ts';
import { audioProblem } from '../chaos/load/classify.ts';

let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster({ regions: [{ name: 'north', nodes: 2 }], node: { slots: 4, queue: 8 } });
});
afterAll(async () => {
  await cluster?.close();
});

it('never answers 200 with a truncated WAV; retries on the healthy node (or sheds with 503) instead', async () => {
  cluster.node('north-1').proxy.set({ kind: 'truncate_wav', fraction: 0.6 });
  const results = await Promise.all(Array.from({ length: 8 }, () => call(cluster.gateway.url, 'demo-enterprise', { text: 'Truncated audio test' })));
  expect(cluster.node('north-1').proxy.stats.faulted).toBeGreaterThan(0);
  for (const r of results) {
    if (r.status === 200) {
      expect(audioProblem(r.headers['content-type'], r.headers['content-length'], r.body)).toBeNull();
      expect(r.headers['x-node']).toBe('north-2');
    } else {
      // The retry budget may refuse a retry; then the client gets a clean, retryable 503.
      expect(r.status, JSON.stringify(r.json)).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
    }
  }
  expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
});
