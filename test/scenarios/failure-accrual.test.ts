/**
 * Failure accrual against real node-runtime processes (serving the simulator pack: timed delay,
 * no CPU, so the timings are the gateway's), each behind a fault proxy: a hung node
 * (SIGSTOP), a node that fails every synthesis, a slow node. Clients see no errors; the breaker
 * (and outlier detection) take the bad node out, and a recovered node comes back through a
 * half-open probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../node-runtime/src/audio/wav.ts';
import {
  call,
  countBy,
  getJson,
  SIM_MODELS_DIR,
  simOverrides,
  getText,
  metricValue,
  runLoad,
  startCluster,
  synthesize,
  waitFor,
  type CallResult,
  type Cluster,
} from '../harness/index.ts';

const TEXT = 'Breakers open so clients never wait.';
const ATTEMPT_MS = 3000;
let cluster: Cluster;

interface Status {
  regions: { nodes: { id: string; healthy: boolean; breaker: string }[] }[];
}
/** Statuses, with the error code of every failure: a failed assertion says what happened. */
const outcomes = (rs: CallResult[]) =>
  countBy(rs, (r) => (r.status === 200 ? '200' : `${r.status} ${(r.json as { error?: { code?: string } })?.error?.code ?? r.error}`));

/** Every fault off, every breaker closed again (half-open probes need traffic), windows forgotten. */
async function heal(): Promise<void> {
  for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
  await waitFor(
    async () => {
      await synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT });
      const s = (await getJson(`${cluster.gateway.url}/v1/status`)) as Status;
      return s.regions[0]!.nodes.every((n) => n.breaker === 'closed' && n.healthy);
    },
    20_000,
    200,
  );
  await settle();
}

/** Lets the breakers' 4 s rolling window (longer than a try, see the schema) forget earlier calls. */
const settle = () => new Promise((r) => setTimeout(r, 4_100));

/** How many times the node's breaker has opened so far (from /metrics). */
async function opened(id: string): Promise<number> {
  return metricValue(await getText(`${cluster.gateway.url}/metrics`), 'voxgate_gateway_breaker_transitions_total', { node: id, to: 'open' });
}
/** The node the balancer likes best (lowest latency EWMA): p2c never picks the worst of three while the scores are steady, so a fault goes where traffic does. */
async function favourite(): Promise<string> {
  const st = (await getJson(`${cluster.gateway.url}/v1/status`)) as { regions: { nodes: { id: string; latency_ewma_ms: number }[] }[] };
  return [...st.regions[0]!.nodes].sort((a, b) => a.latency_ewma_ms - b.latency_ewma_ms)[0]!.id;
}
async function nodeStatus(id: string) {
  const s = (await getJson(`${cluster.gateway.url}/v1/status`)) as Status;
  return s.regions.flatMap((r) => r.nodes).find((n) => n.id === id)!;
}

beforeAll(async () => {
  cluster = await startCluster({
    regions: [{ name: 'north', nodes: 3 }],
    node: { proxy: true, slots: 2, modelsDir: SIM_MODELS_DIR },
    gateway: {
      ...simOverrides(),
      timeouts: { attempt_ms: ATTEMPT_MS, connect_ms: 300, capacity_wait_ms: 500 },
      // Slow health checks, so the breaker (not the health checker) is what takes a bad node out here.
      health: { interval_ms: 1000, timeout_ms: 500, healthy_threshold: 1, unhealthy_threshold: 8 },
      // volume 1: one failure opens a breaker, so each mechanism shows with a few requests (the
      // balancer already steers most traffic away from a bad node).
      breaker: {
        volume_threshold: 1,
        error_threshold_percentage: 50,
        reset_timeout_ms: 1500,
        rolling_window_ms: 4000,
        slow_call_base_ms: 1200,
        slow_call_per_char_ms: 0,
      },
      outlier_detection: { consecutive_failures: 5, base_ejection_ms: 2000 },
      // The hung-node burst sends 6 at once; up to all of them may be caught and need a retry.
      retry: { min_retry_concurrency: 6 },
    },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

describe('failure accrual', () => {
  it('a hung node (SIGSTOP): its requests are retried elsewhere within the per-try timeout, and its breaker opens', async () => {
    // Warm every node so the balancer has a latency estimate for each, then hang the one it
    // likes best (p2c never picks the worst of three while the scores are steady).
    await runLoad({ concurrency: 3, total: 12, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
    await settle();
    const hung = cluster.node(await favourite());
    hung.pause();
    try {
      // A burst of 6 at once spreads over all three nodes (p2c on in-flight), so the hung one is
      // certain to catch some (the retry budget's floor is 6 here, so all can be retried); then
      // steady load.
      const burst = await Promise.all(Array.from({ length: 6 }, () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT })));
      const results = [...burst, ...(await runLoad({ concurrency: 3, total: 12, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) }))];
      expect(outcomes(results)).toEqual({ 200: 18 });
      expect(results.every((r) => r.headers['x-node'] !== hung.id)).toBe(true);
      const retried = results.filter((r) => r.headers['x-attempts'] !== '1');
      // The balancer's peak-EWMA steers away from a node whose request is outstanding for long,
      // so usually exactly one request is caught there; it is retried elsewhere.
      expect(retried.length).toBeGreaterThanOrEqual(1);
      // Each retried request lost one per-try timeout (3 s + 2 ms/char) to the hung node, not two.
      for (const r of retried) expect(r.ms).toBeLessThan(2 * (ATTEMPT_MS + 2 * TEXT.length));
      const attemptLogs = cluster.gateway.proc.logs.filter((l) => Array.isArray(l['attempt_log'])).map((l) => JSON.stringify(l['attempt_log']));
      expect(await opened(hung.id), `${hung.id}: ${attemptLogs.join(' ')}`).toBeGreaterThanOrEqual(1);
      const transitions = cluster.gateway.proc.logs.filter((l) => l.msg === 'breaker state changed' && l['node'] === hung.id).map((l) => l['breaker']);
      expect(transitions.slice(0, 1), JSON.stringify(transitions)).toEqual(['open']);
    } finally {
      hung.resume();
    }
    // Recovered: after reset_timeout the half-open probe succeeds and the breaker closes.
    const ms = await waitFor(
      async () => {
        await synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT });
        return (await nodeStatus(hung.id)).breaker === 'closed';
      },
      10_000,
      100,
    );
    expect(ms).toBeLessThan(8_000);
  });

  it('a node failing every synthesis (503 engine_failure): zero client errors, and it stops getting traffic', async () => {
    await heal();
    const bad = cluster.node(await favourite());
    bad.fault.resetStats();
    bad.fault.set({ kind: 'fail', status: 503, code: 'engine_failure' });
    try {
      const t0 = Date.now();
      const results = await runLoad({ concurrency: 3, total: 24, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      const elapsed = Date.now() - t0;
      expect(outcomes(results)).toEqual({ 200: 24 });
      const hits = bad.fault.stats.synth;
      // Its first failure opens the breaker (volume_threshold 1), unless peak-EWMA already steered
      // around it; then each reset_timeout (1.5 s) lets one half-open probe through, so a slower
      // run (a loaded machine) sees a few more — never a share of the 24. (It was ≥ 2 here, which
      // failed whenever the 24 requests took under one reset_timeout.)
      expect(hits).toBeGreaterThanOrEqual(1);
      expect(hits).toBeLessThanOrEqual(4 + Math.ceil(elapsed / 1500));
      expect(await opened(bad.id)).toBeGreaterThanOrEqual(1);
    } finally {
      bad.fault.set({ kind: 'pass' });
    }
  });

  it('a slow node (+2 s, under the 3 s per-try timeout): slow successes count like failures and open its breaker', async () => {
    const slow = cluster.node('north-2');
    await heal();
    slow.fault.resetStats();
    slow.fault.set({ kind: 'delay', ms: 2000 });
    try {
      const results = await runLoad({ concurrency: 3, total: 18, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(outcomes(results)).toEqual({ 200: 18 });
      expect(slow.fault.stats.synth).toBeGreaterThanOrEqual(1);
      expect(await opened('north-2')).toBeGreaterThanOrEqual(1);
      // Once open, it got no more than half-open probes.
      const before = slow.fault.stats.synth;
      await runLoad({ concurrency: 3, total: 9, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(slow.fault.stats.synth - before).toBeLessThanOrEqual(2);
    } finally {
      slow.fault.set({ kind: 'pass' });
    }
  });

  it('an upstream that dies mid-body: a buffered answer is retried elsewhere, a streamed one never reaches the client as complete', async () => {
    await heal();
    for (const n of cluster.nodes) n.fault.set({ kind: 'truncate', bytes: 1000 });
    const others = cluster.nodes.filter((n) => n.id !== 'north-1');
    try {
      // Only north-1 cuts bodies now.
      for (const n of others) n.fault.set({ kind: 'pass' });
      const small = await runLoad({ concurrency: 2, total: 8, fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }) });
      expect(outcomes(small)).toEqual({ 200: 8 });
      // Streamed answers carry no length up front: each must be whole audio, with no transport error.
      for (const r of small) expect(r.error === undefined && decodeWav(r.body).samples.length > 0).toBe(true);
      // Every node cuts bodies: a large answer is either resumed to the full audio or fails
      // visibly (reset); never a short success.
      const long = 'A long answer that streams from the node to the client. '.repeat(14);
      for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
      const reference = await synthesize(cluster.gateway.url, 'demo-enterprise', { text: long, seed: 7 });
      expect(reference.status).toBe(200);
      const whole = decodeWav(reference.body).samples.length;
      for (const n of cluster.nodes) n.fault.set({ kind: 'truncate', bytes: 200_000 });
      const big = await synthesize(cluster.gateway.url, 'demo-enterprise', { text: long, seed: 7 });
      if (big.status === 200 && big.error === undefined) expect(decodeWav(big.body).samples.length).toBe(whole);
      else expect(big.status !== 200 || big.error !== undefined).toBe(true);
    } finally {
      for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
    }
  });

  it('a client that disconnects cancels the upstream request', async () => {
    await heal();
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
