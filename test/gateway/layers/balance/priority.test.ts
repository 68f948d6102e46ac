import { describe, expect, it } from 'vitest';
import { priorityLoad, selectCandidates } from '../../../../gateway/src/layers/balance/priority.ts';
import { ManualClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { Endpoint } from '../../../../gateway/src/upstream/endpoints.ts';

const clock = new ManualClock();

const opts = { overprovisioningFactor: 1.4, panicThresholdPercent: 50 };
const mk = (id: string, region: string) => new Endpoint({ id, url: `http://127.0.0.1:1/${id}`, models: ['m'] }, region, clock);

describe('priority load (Envoy overprovisioning factor 1.4)', () => {
  it('keeps all traffic in P0 down to ~72% healthy, 70% at 50% healthy', () => {
    expect(
      priorityLoad(
        [
          { region: 'a', healthy: 10, total: 10 },
          { region: 'b', healthy: 10, total: 10 },
        ],
        1.4,
      ).map((r) => r.share),
    ).toEqual([1, 0]);
    expect(
      priorityLoad(
        [
          { region: 'a', healthy: 8, total: 10 },
          { region: 'b', healthy: 10, total: 10 },
        ],
        1.4,
      )[0]!.share,
    ).toBe(1);
    const half = priorityLoad(
      [
        { region: 'a', healthy: 1, total: 2 },
        { region: 'b', healthy: 2, total: 2 },
      ],
      1.4,
    );
    expect(half[0]!.share).toBeCloseTo(0.7);
    expect(half[1]!.share).toBeCloseTo(0.3);
    expect(
      priorityLoad(
        [
          { region: 'a', healthy: 0, total: 2 },
          { region: 'b', healthy: 2, total: 2 },
        ],
        1.4,
      ).map((r) => r.share),
    ).toEqual([0, 1]);
  });
  it('normalises when total health is under 100%', () => {
    const s = priorityLoad(
      [
        { region: 'a', healthy: 1, total: 4 },
        { region: 'b', healthy: 1, total: 4 },
      ],
      1.4,
    );
    expect(s[0]!.share + s[1]!.share).toBeCloseTo(1);
    expect(s[0]!.share).toBeCloseTo(0.5);
  });
});

describe('selectCandidates', () => {
  const now = 1_000;
  it('prefers the home region and spills in proportion when it degrades', () => {
    const pool = [mk('a1', 'a'), mk('a2', 'a'), mk('b1', 'b'), mk('b2', 'b')];
    expect(selectCandidates(pool, ['a', 'b'], new Set(), now, opts, () => 0.99).region).toBe('a');
    pool[0]!.healthy = false;
    let toB = 0;
    for (let i = 0; i < 100; i++) if (selectCandidates(pool, ['a', 'b'], new Set(), now, opts, () => i / 100).region === 'b') toB++;
    expect(toB).toBe(30);
  });
  it('moves on to the next region once the home region is tried', () => {
    const pool = [mk('a1', 'a'), mk('b1', 'b')];
    const sel = selectCandidates(pool, ['a', 'b'], new Set(['a1']), now, opts, () => 0);
    expect(sel.candidates.map((e) => e.id)).toEqual(['b1']);
    expect(selectCandidates(pool, ['a', 'b'], new Set(['a1', 'b1']), now, opts).empty).toBe('tried');
  });
  it('panics below 50% healthy: uses every node rather than none', () => {
    const pool = [mk('a1', 'a'), mk('a2', 'a'), mk('b1', 'b')];
    pool[0]!.healthy = false;
    pool[1]!.healthy = false;
    const sel = selectCandidates(pool, ['a', 'b'], new Set(), now, opts, () => 0);
    expect(sel.panic).toBe(true);
    expect(sel.candidates.length).toBeGreaterThan(0);
    // not in panic at exactly 50%
    pool[1]!.healthy = true;
    expect(selectCandidates(pool, ['a', 'b'], new Set(), now, opts).panic).toBe(false);
  });
  it('a node whose queue wait plus service fits the try and its queue allowance is a candidate; one past the deadline is not', () => {
    const pool = [mk('a1', 'a')];
    // 4 slots, 10 ahead of us at 1.3 s each: ~2.3 s wait + 1.3 s service > a 3.5 s try alone.
    pool[0]!.load = { ready: true, draining: false, slots: 4, inflight: 4, queueDepth: 6, queueLimit: 8, latencyEwmaMs: 1300, at: now };
    expect(selectCandidates(pool, ['a'], new Set(), now, opts, () => 0, { tryMs: 3500, leftMs: 20_000 }).candidates.length).toBe(1);
    expect(selectCandidates(pool, ['a'], new Set(), now, opts, () => 0, { tryMs: 3500, leftMs: 3000 }).empty).toBe('saturated');
  });
  it('skips saturated nodes unless nothing else can serve, then answers saturated', () => {
    const pool = [mk('a1', 'a'), mk('a2', 'a')];
    pool[0]!.saturatedUntil = now + 5_000;
    expect(selectCandidates(pool, ['a'], new Set(), now, opts).candidates.map((e) => e.id)).toEqual(['a2']);
    pool[1]!.saturatedUntil = now + 5_000;
    for (const e of pool) e.load = { ready: true, draining: false, slots: 2, inflight: 2, queueDepth: 8, queueLimit: 8, latencyEwmaMs: 100, at: now };
    expect(selectCandidates(pool, ['a'], new Set(), now, opts).empty).toBe('saturated');
  });
});
