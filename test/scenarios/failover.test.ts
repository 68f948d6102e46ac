/**
 * Failover with real node-runtime processes on 127.0.0.1: a node killed mid-load, then a whole
 * region killed mid-load. Zero client errors in both; traffic leaves the dead region within 1 s.
 * The nodes serve the runtime's simulator pack (timed delay, no CPU), so the timings measure the
 * gateway and not how much CPU this shared machine leaves for synthesis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, getJson, runLoad, SIM_MODELS_DIR, simOverrides, startCluster, synthesize, type CallResult, type Cluster } from '../harness/index.ts';

const TEXT = 'Failover keeps speaking.';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    regions: [
      { name: 'north', nodes: 2 },
      { name: 'south', nodes: 2 },
    ],
    node: { slots: 2, queue: 8, modelsDir: SIM_MODELS_DIR },
    gateway: simOverrides(),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

function summary(results: CallResult[]) {
  return {
    statuses: countBy(results, (r) => String(r.status)),
    errors: results.filter((r) => r.status !== 200).map((r) => r.error ?? String(r.json ? JSON.stringify(r.json) : r.status)),
  };
}

describe('failover', () => {
  it('a node killed mid-load: zero client errors, and no request reaches it after the kill', async () => {
    const victim = cluster.node('south-1');
    let killedAt = 0;
    const killer = new Promise<void>((resolve) =>
      setTimeout(() => {
        void victim.kill().then(() => {
          // Once the process has exited (on a loaded machine SIGKILL takes a moment to land).
          killedAt = Date.now();
          resolve();
        });
      }, 800),
    );
    const results = await runLoad({
      concurrency: 3,
      durationMs: 2_500,
      fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }, { 'x-region': 'south' }),
    });
    await killer;
    expect(summary(results).errors).toEqual([]);
    expect(results.length).toBeGreaterThan(8);
    const afterKill = results.filter((r) => r.start > killedAt);
    expect(afterKill.length).toBeGreaterThan(3);
    expect(afterKill.every((r) => r.headers['x-node'] !== 'south-1')).toBe(true);
    // Requests in flight on the victim were retried: they say so in x-attempts.
    const retried = results.filter((r) => Number(r.headers['x-attempts']) > 1);
    expect(retried.every((r) => r.status === 200)).toBe(true);
    const status = (await getJson(`${cluster.gateway.url}/v1/status`)) as { regions: { name: string; nodes: { id: string; healthy: boolean }[] }[] };
    expect(status.regions.find((r) => r.name === 'south')!.nodes.find((n) => n.id === 'south-1')!.healthy).toBe(false);
  });

  it('a whole region killed mid-load: zero client errors while the other region has capacity, traffic moved within 1 s', async () => {
    const north = cluster.region('north');
    // The kill takes a moment (SIGKILL, then the kernel reaps each process): a request that ends
    // in that window may still come from the north. Before: ended before the first SIGKILL;
    // after: started once every north process had exited.
    let killingAt = 0;
    let killedAt = 0;
    const killer = new Promise<void>((resolve) =>
      setTimeout(() => {
        killingAt = Date.now();
        void Promise.all(north.map((n) => n.kill())).then(() => {
          killedAt = Date.now();
          resolve();
        });
      }, 1_000),
    );
    const results = await runLoad({
      concurrency: 3,
      durationMs: 3_000,
      fn: () => synthesize(cluster.gateway.url, 'demo-pro', { text: TEXT }),
    });
    await killer;
    expect(summary(results).errors).toEqual([]);
    const before = results.filter((r) => r.end < killingAt);
    expect(before.length).toBeGreaterThan(3);
    expect(before.every((r) => r.headers['x-region'] === 'north')).toBe(true);
    const after = results.filter((r) => r.start >= killedAt);
    expect(after.every((r) => r.headers['x-region'] === 'south')).toBe(true);
    expect(after.every((r) => (r.headers['x-degraded'] ?? '').includes('region_failover'))).toBe(true);
    // Moved: the start of the last request after the kill that still tried the north first (a
    // north node not yet seen failing); every request started after it went straight to the south.
    const retriedAfter = after.filter((r) => r.headers['x-attempts'] !== '1');
    const settledAt = Math.max(killedAt, ...retriedAfter.map((r) => r.start));
    // Some requests went straight to the south after it (the bound on when is `moved_ms` below).
    expect(after.filter((r) => r.start > settledAt).length).toBeGreaterThan(0);
    // Recovered: when the last request caught in flight by the kill was answered from the south.
    const caught = results.filter((r) => r.start < killingAt && r.end >= killedAt);
    const movedMs = settledAt - killedAt;
    const recoveredMs = Math.max(...caught.map((r) => r.end), killedAt) - killedAt;
    console.log(
      JSON.stringify({
        scenario: 'region-kill',
        moved_ms: movedMs,
        recovered_ms: recoveredMs,
        caught_in_flight: caught.length,
        requests_after_kill: after.length,
        retried_after_kill: retriedAfter.length,
      }),
    );
    // A request caught by the kill either started again in the south or, caught mid-stream, kept
    // its headers from the north and was resumed in the south (the x-region trailer lists both).
    expect(caught.every((r) => r.status === 200)).toBe(true);
    expect(movedMs).toBeLessThan(1_000);
    expect(recoveredMs).toBeLessThan(2_000);
  });
});
