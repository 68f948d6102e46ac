import { describe, expect, it } from 'vitest';
import { JudgeBudget, judgeShare } from '../../gateway/src/canary/judge/judge-budget.ts';
import { ServingLoad } from '../../gateway/src/canary/judge/serving-load.ts';

describe('judge budget', () => {
  it('spends at most its share of a core over time, whatever is offered', () => {
    let now = 0;
    const b = new JudgeBudget({ share: () => 0.05, now: () => now });
    let judged = 0;
    // 100 pairs offered per second for 60 s, each costing 250 ms of CPU.
    for (let t = 0; t < 60_000; t += 10) {
      now = t;
      const r = b.tryReserve();
      if (r !== undefined) {
        judged++;
        b.settle(r, 250);
      }
    }
    // 5 % of 60 s = 3 s of core time = 12 pairs, plus the 1 s burst saved up at the start (4).
    expect(judged).toBeGreaterThanOrEqual(14);
    expect(judged).toBeLessThanOrEqual(17);
  });

  it('learns what a pair costs: dearer pairs (ASR) are admitted less often', () => {
    let now = 0;
    const b = new JudgeBudget({ share: () => 0.1, now: () => now, burstPairs: () => 1 });
    const run = (costMs: number) => {
      let judged = 0;
      for (let i = 0; i < 6_000; i++) {
        now += 10;
        const r = b.tryReserve();
        if (r !== undefined) {
          judged++;
          b.settle(r, costMs);
        }
      }
      return judged;
    };
    const cheap = run(100);
    run(2_000); // the estimate catches up
    const dear = run(2_000);
    expect(cheap).toBeGreaterThan(4 * dear);
    expect(dear).toBeLessThanOrEqual(4); // 60 s × 0.1 core / 2 s
  });

  it('says whether it could afford a pair without reserving one', () => {
    const b = new JudgeBudget({ share: () => 0, now: () => 0, burstPairs: () => 1 });
    expect(b.affords()).toBe(true);
    expect(b.affords()).toBe(true);
    expect(b.tryReserve()).toBeDefined();
    expect(b.affords()).toBe(false);
    expect(b.tryReserve()).toBeUndefined();
  });

  it('a reservation that was never judged gives its time back', () => {
    const b = new JudgeBudget({ share: () => 0.01, now: () => 0, burstPairs: () => 2 });
    const r1 = b.tryReserve()!;
    const r2 = b.tryReserve()!;
    expect(b.tryReserve()).toBeUndefined();
    b.settle(r1, 0);
    b.settle(r2, 0);
    expect(b.tryReserve()).toBeDefined();
  });
});

describe('judge share', () => {
  const cfg = { serving_share: 0.04, min_core_share: 0.005, max_core_share: 0.05 };

  it('is serving_share of the serving CPU, within min_core_share and max_core_share', () => {
    expect(judgeShare(cfg, 0.25)).toBeCloseTo(0.01);
    expect(judgeShare(cfg, 0)).toBe(0.005);
    expect(judgeShare(cfg, 2)).toBe(0.05);
  });

  it('reads the main thread busy while it serves', async () => {
    let now = 0;
    const load = new ServingLoad(() => now, 100);
    const spinUntil = performance.now() + 300;
    while (performance.now() < spinUntil) Math.sqrt(Math.random());
    now = 100;
    expect(load.cores()).toBeGreaterThan(0.5);
    await new Promise((r) => setTimeout(r, 300));
    now = 200;
    expect(load.cores()).toBeLessThan(0.5);
  });
});
