/**
 * The balance layer's routing over the routing table: picks follow endpoint state at
 * once, region shares still follow priority load, and the exact scan still decides the rest.
 */
import { describe, expect, it } from 'vitest';
import { balance } from '../../../../gateway/src/layers/balance/balance.ts';
import { p2c } from '../../../../gateway/src/layers/balance/p2c.ts';
import { chooseRegion } from '../../../../gateway/src/layers/balance/priority.ts';
import { sample } from '../../../../gateway/src/layers/balance/sample.ts';
import type { Service, UpstreamRequest } from '../../../../gateway/src/upstream/service.ts';
import { ManualClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../../gateway/src/observability/metrics.ts';
import { EndpointSet } from '../../../../gateway/src/upstream/endpoints.ts';
import { OutlierDetector } from '../../../../gateway/src/upstream/outlier-detection.ts';

const opts = { overprovisioningFactor: 1.4, panicThresholdPercent: 50 };

function setup(regions: { name: string; nodes: number }[]) {
  const clock = new ManualClock();
  const endpoints = new EndpointSet(
    regions.map((r, p) => ({
      name: r.name,
      priority: p,
      nodes: Array.from({ length: r.nodes }, (_, i) => ({ id: `${r.name}${i}`, url: `http://127.0.0.1:1/${r.name}${i}`, models: ['m'] })),
    })),
    clock,
  );
  const metrics = createMetrics();
  const outliers = new OutlierDetector({
    endpoints,
    clock,
    log: createLogger({ level: 'silent' }),
    metrics,
    config: () => ({ consecutive_failures: 3, consecutive_connect_failures: 1, base_ejection_ms: 1000, max_ejection_ms: 10_000, max_ejection_percent: 50 }),
    maxRetryAfterMs: () => 1000,
  });
  const stub: Service = async (req) => ({
    status: 200,
    headers: {},
    body: Buffer.alloc(1),
    contentLength: 1,
    node: req.endpoint!.id,
    region: req.endpoint!.region,
  });
  const layer = balance({ endpoints, balancer: p2c(), outliers, clock, metrics, priority: () => opts, capacityWaitMs: () => 0, attemptMs: () => 1000 })(stub);
  // As if each node had served a call already: a fresh node's default latency estimate (100 ms)
  // would lose every p2c comparison to nodes the instant stub has served in "0 ms".
  for (const e of endpoints.all()) e.observeLatency(1);
  const names = regions.map((r) => r.name);
  const pick = async (tried: string[] = []) => {
    const ac = new AbortController();
    const req: UpstreamRequest = {
      traceId: 't',
      body: Buffer.alloc(0),
      route: { model: 'm', regions: names },
      textLength: 10,
      deadlineAt: clock.now() + 10_000,
      deadline: ac.signal,
      signal: ac.signal,
      attempt: 0,
      tried: new Set(tried),
      attempts: [],
    };
    return (await layer(req)).node;
  };
  const picks = async (n: number) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const id = await pick();
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };
  return { clock, endpoints, pick, picks };
}

describe('balance over the routing table', () => {
  it('a node made unavailable gets no pick from the next request on, and is back when its ejection ends', async () => {
    const s = setup([{ name: 'a', nodes: 8 }]);
    const now = s.clock.now();
    expect((await s.picks(400)).size).toBe(8);
    s.endpoints.get('a0')!.healthy = false;
    s.endpoints.get('a1')!.ejectedUntil = now + 1_000;
    s.endpoints.get('a2')!.saturatedUntil = now + 1_000;
    const a3 = s.endpoints.get('a3')!;
    a3.breakerState = () => 'open';
    a3.changed();
    const during = await s.picks(400);
    expect([...during.keys()].sort()).toEqual(['a4', 'a5', 'a6', 'a7']);
    // Ejection and saturation end by the clock alone, with no event to invalidate the table.
    s.clock.advance(1_001);
    const after = await s.picks(400);
    expect([...after.keys()].sort()).toEqual(['a1', 'a2', 'a4', 'a5', 'a6', 'a7']);
  });

  it('region shares follow priority load: a half-healthy home region keeps 70%', async () => {
    const s = setup([
      { name: 'a', nodes: 10 },
      { name: 'b', nodes: 10 },
    ]);
    for (let i = 0; i < 5; i++) s.endpoints.get(`a${i}`)!.healthy = false;
    const counts = await s.picks(2_000);
    const toA = [...counts].filter(([id]) => id.startsWith('a')).reduce((n, [, c]) => n + c, 0);
    expect(toA / 2_000).toBeGreaterThan(0.65);
    expect(toA / 2_000).toBeLessThan(0.75);
    // All healthy again: everything stays home.
    for (let i = 0; i < 5; i++) s.endpoints.get(`a${i}`)!.healthy = true;
    expect([...(await s.picks(200)).keys()].every((id) => id.startsWith('a'))).toBe(true);
  });

  it('skips tried nodes, even when only one of many is left (the draws give up, the scan finds it)', async () => {
    const s = setup([{ name: 'a', nodes: 20 }]);
    const tried = Array.from({ length: 19 }, (_, i) => `a${i}`);
    for (let i = 0; i < 20; i++) expect(await s.pick(tried)).toBe('a19');
    await expect(s.pick([...tried, 'a19'])).rejects.toMatchObject({ code: 'VOX_ERR_NO_CAPACITY' });
  });

  it('uses a saturated node only when nothing else can serve, and answers busy when none has room', async () => {
    const s = setup([{ name: 'a', nodes: 2 }]);
    const now = s.clock.now();
    for (const e of s.endpoints.all()) e.saturatedUntil = now + 5_000;
    expect(['a0', 'a1']).toContain(await s.pick());
    for (const e of s.endpoints.all())
      e.load = { ready: true, draining: false, slots: 1, inflight: 1, queueDepth: 4, queueLimit: 4, latencyEwmaMs: 10, at: now };
    await expect(s.pick()).rejects.toMatchObject({ code: 'VOX_ERR_BUSY' });
  });
});

describe('chooseRegion', () => {
  it('discounts the nodes a request tried, and leaves panic to the exact scan', () => {
    const s = setup([
      { name: 'a', nodes: 2 },
      { name: 'b', nodes: 2 },
    ]);
    const now = s.clock.now();
    const hosts = () => s.endpoints.hosts('m', undefined, now);
    expect(chooseRegion(hosts(), ['a', 'b'], new Set(), opts, () => 0.99)?.region).toBe('a');
    expect(chooseRegion(hosts(), ['a', 'b'], new Set(['a0', 'a1']), opts, () => 0)?.region).toBe('b');
    expect(chooseRegion(hosts(), ['a', 'b'], new Set(['a0', 'a1', 'b0', 'b1']), opts)).toBeUndefined();
    for (const id of ['a0', 'a1', 'b0']) s.endpoints.get(id)!.healthy = false;
    expect(chooseRegion(hosts(), ['a', 'b'], new Set(), opts)).toBeUndefined();
  });
});

describe('sample', () => {
  const list = Array.from({ length: 10 }, (_, i) => i);
  it('draws distinct acceptable items, uniformly', () => {
    const seen = new Map<number, number>();
    let gaveUp = 0;
    for (let i = 0; i < 5_000; i++) {
      const pair = sample(list, 2, (x) => x % 2 === 0);
      if (!pair) {
        gaveUp += 1;
        continue;
      }
      expect(pair.length).toBe(2);
      expect(pair[0]).not.toBe(pair[1]);
      for (const x of pair) {
        expect(x % 2).toBe(0);
        seen.set(x, (seen.get(x) ?? 0) + 1);
      }
    }
    // Half the items acceptable: fewer than two distinct ones in 16 draws is rare.
    expect(gaveUp).toBeLessThan(25);
    expect([...seen.keys()].sort()).toEqual([0, 2, 4, 6, 8]);
    for (const c of seen.values()) expect(Math.abs(c - 2_000)).toBeLessThan(250);
  });
  it('gives up when draws keep failing, and filters a list no longer than asked', () => {
    expect(sample(list, 2, (x) => x === 3)).toBeUndefined();
    expect(
      sample(
        list,
        2,
        () => true,
        () => 0,
      ),
    ).toBeUndefined(); // the same item every draw
    expect(sample([1, 2], 2, (x) => x === 2)).toEqual([2]);
  });
});
