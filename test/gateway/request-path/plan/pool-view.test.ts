/**
 * The plan's pool view over the routing table: exact counts always; load figures live for a
 * small pool, once per snapshot (≤ 100 ms) for a large one.
 */
import { describe, expect, it } from 'vitest';
import { LIVE_MAX, poolView } from '../../../../gateway/src/request-path/plan/pool-view.ts';
import { ManualClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { EndpointSet } from '../../../../gateway/src/upstream/endpoints.ts';
import { MAX_AGE_MS } from '../../../../gateway/src/upstream/routing-table.ts';

function pool(n: number) {
  const clock = new ManualClock();
  const set = new EndpointSet(
    [{ name: 'a', priority: 0, nodes: Array.from({ length: n }, (_, i) => ({ id: `a${i}`, url: `http://127.0.0.1:1/a${i}`, models: ['m'] })) }],
    clock,
  );
  for (const e of set.all())
    e.load = { ready: true, draining: false, slots: 1, inflight: 0, queueDepth: 0, queueLimit: 4, latencyEwmaMs: 100, at: clock.now() };
  return { clock, set };
}

describe('poolView', () => {
  it('a small pool sees the request just sent at once', () => {
    const { clock, set } = pool(2);
    expect(poolView(set, 'm', clock.now())).toEqual({ available: 2, waitMs: 0, utilization: 0 });
    for (const e of set.all()) e.begin();
    expect(poolView(set, 'm', clock.now())).toMatchObject({ waitMs: 100, utilization: 1 });
    set.get('a0')!.healthy = false;
    expect(poolView(set, 'm', clock.now()).available).toBe(1);
  });

  it('a large pool: counts exact at once, load figures at most MAX_AGE_MS old', () => {
    const { clock, set } = pool(LIVE_MAX + 8);
    expect(poolView(set, 'm', clock.now()).utilization).toBe(0);
    const tokens = set.all().map((e) => e.begin());
    expect(poolView(set, 'm', clock.now()).utilization).toBe(0); // same snapshot
    set.get('a0')!.healthy = false; // a state change: a new snapshot, with fresh figures
    expect(poolView(set, 'm', clock.now())).toMatchObject({ available: LIVE_MAX + 7, utilization: 1 });
    set.get('a1')!.end(tokens[1]!);
    expect(poolView(set, 'm', clock.now()).utilization).toBe(1);
    clock.advance(MAX_AGE_MS);
    expect(poolView(set, 'm', clock.now()).utilization).toBe(0);
  });
});
