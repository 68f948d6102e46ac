/**
 * Failure accrual against real node runtimes (flite), each behind a fault proxy: a hung node
 * (SIGSTOP), a node that fails every synthesis, a slow node. Clients see no errors; the breaker
 * (and outlier detection) take the bad node out, and a recovered node comes back through a
 * half-open probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, countBy, getJson, getText, metricValue, runLoad, startCluster, synthesize, waitFor, type Cluster } from '../harness/index.ts';

const TEXT = 'Breakers open so clients never wait.';
const ATTEMPT_MS = 1500;
let cluster: Cluster;

interface Status {
  regions: { nodes: { id: string; healthy: boolean; breaker: string }[] }[];
}
/** Lets the breakers' 2 s rolling window forget earlier tests' calls. */
const settle = () => new Promise((r) => setTimeout(r, 2_100));

/** How many times the node's breaker has opened so far (from /metrics). */
async function opened(id: string): Promise<number> {
  return metricValue(await getText(`${cluster.gateway.url}/metrics`), 'voxgate_gateway_breaker_transitions_total', { node: id, to: 'open' });
}
async function nodeStatus(id: string) {
  const s = (await getJson(`${cluster.gateway.url}/v1/status`)) as Status;
  return s.regions.flatMap((r) => r.nodes).find((n) => n.id === id)!;
}

beforeAll(async () => {
  cluster = await startCluster({
    regions: [{ name: 'north', nodes: 3 }],
    node: { proxy: true, slots: 2 },
    gateway: {
      timeouts: { attempt_ms: ATTEMPT_MS, connect_ms: 300, capacity_wait_ms: 500 },
      // Slow health checks, so the breaker (not the health checker) is what takes a bad node out here.
      health: { interval_ms: 1000, timeout_ms: 500, healthy_threshold: 1, unhealthy_threshold: 3 },
      breaker: { volume_threshold: 2, error_threshold_percentage: 50, reset_timeout_ms: 1500, rolling_window_ms: 2000, slow_call_base_ms: 900, slow_call_per_char_ms: 0 },
      outlier_detection: { consecutive_failures: 5, base_ejection_ms: 2000 },
    },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

describe('failure accrual', () => {
  it('a hung node (SIGSTOP): its requests are retried elsewhere within the per-try timeout, and its breaker opens', async () => {
    const hung = cluster.node('north-1');
    hung.pause();
    try {
      const results = await runLoad({ concurrency: 3, total: 30, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(countBy(results, (r) => String(r.status))).toEqual({ 200: 30 });
      expect(results.every((r) => r.headers['x-node'] !== 'north-1')).toBe(true);
      const retried = results.filter((r) => r.headers['x-attempts'] !== '1');
      expect(retried.length).toBeGreaterThanOrEqual(2);
      // Each retried request lost one per-try timeout to the hung node, not more.
      for (const r of retried) expect(r.ms).toBeLessThan(ATTEMPT_MS * 1.25 + 700);
      expect(await opened('north-1')).toBeGreaterThanOrEqual(1);
      expect((await nodeStatus('north-1')).breaker).not.toBe('closed');
    } finally {
      hung.resume();
    }
    // Recovered: after reset_timeout the half-open probe succeeds and the breaker closes.
    const ms = await waitFor(async () => {
      await synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT });
      return (await nodeStatus('north-1')).breaker === 'closed';
    }, 10_000, 100);
    expect(ms).toBeLessThan(8_000);
  });

  it('a node failing every synthesis (503 engine_failure): zero client errors, and it stops getting traffic', async () => {
    const bad = cluster.node('north-3');
    await waitFor(async () => (await nodeStatus('north-3')).breaker === 'closed', 5_000);
    await settle();
    bad.fault.resetStats();
    bad.fault.set({ kind: 'fail', status: 503, code: 'engine_failure' });
    try {
      const results = await runLoad({ concurrency: 3, total: 40, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(countBy(results, (r) => String(r.status))).toEqual({ 200: 40 });
      const hits = bad.fault.stats.synth;
      // Two failures open the breaker (volume 2, 100% errors); half-open probes may add a few.
      expect(hits).toBeGreaterThanOrEqual(2);
      expect(hits).toBeLessThanOrEqual(6);
      expect(await opened('north-3')).toBeGreaterThanOrEqual(1);
    } finally {
      bad.fault.set({ kind: 'pass' });
    }
  });

  it('a slow node (+1 s, under the 1.5 s per-try timeout): slow successes count like failures and open its breaker', async () => {
    const slow = cluster.node('north-2');
    await waitFor(async () => (await nodeStatus('north-2')).breaker === 'closed', 5_000);
    await settle();
    slow.fault.resetStats();
    slow.fault.set({ kind: 'delay', ms: 1000 });
    try {
      const results = await runLoad({ concurrency: 3, total: 30, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(countBy(results, (r) => String(r.status))).toEqual({ 200: 30 });
      expect(slow.fault.stats.synth).toBeGreaterThanOrEqual(2);
      expect(await opened('north-2')).toBeGreaterThanOrEqual(1);
      // Once open, it got no more than a half-open probe.
      const before = slow.fault.stats.synth;
      await runLoad({ concurrency: 3, total: 15, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(slow.fault.stats.synth - before).toBeLessThanOrEqual(1);
    } finally {
      slow.fault.set({ kind: 'pass' });
    }
  });

  it('an upstream that dies mid-body: a buffered answer is retried elsewhere, a streamed one never reaches the client as complete', async () => {
    await settle();
    for (const n of cluster.nodes) n.fault.set({ kind: 'truncate', bytes: 1000 });
    const others = cluster.nodes.filter((n) => n.id !== 'north-1');
    try {
      // Only north-1 cuts bodies now.
      for (const n of others) n.fault.set({ kind: 'pass' });
      const small = await runLoad({ concurrency: 2, total: 12, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(countBy(small, (r) => String(r.status))).toEqual({ 200: 12 });
      for (const r of small) expect(Number(r.headers['content-length'])).toBe(r.body.length);
      // Every node cuts bodies: a large (streamed) answer must fail visibly, not look complete.
      for (const n of cluster.nodes) n.fault.set({ kind: 'truncate', bytes: 200_000 });
      const big = await synthesize(cluster.gateway.url, 'demo-enterprise', { text: 'A long answer that streams from the node to the client. '.repeat(14) });
      expect(big.status === 200 && big.error === undefined && big.body.length === Number(big.headers['content-length'])).toBe(false);
    } finally {
      for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
    }
  });

  it('a client that disconnects cancels the upstream request', async () => {
    for (const n of cluster.nodes) {
      n.fault.resetStats();
      n.fault.set({ kind: 'delay', ms: 1_000 });
    }
    try {
      const r = await call(cluster.gateway.url, 'demo-pro', { text: TEXT }, { signal: AbortSignal.timeout(300) });
      expect(r.error).toBeDefined();
      const ms = await waitFor(() => cluster.nodes.reduce((s, n) => s + n.fault.stats.cancelled, 0) === 1, 3_000, 20);
      expect(ms).toBeLessThan(1_000);
    } finally {
      for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
    }
  });
});
