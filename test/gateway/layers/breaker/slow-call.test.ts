import { describe, expect, it } from 'vitest';
import { SlowCallTracker } from '../../../../gateway/src/layers/breaker/slow-call.ts';

function tracker(opts: { ratio?: number; windowMs?: number; minCalls?: number } = {}) {
  let now = 0;
  const t = new SlowCallTracker({ ratio: () => opts.ratio ?? 0.5, windowMs: () => opts.windowMs ?? 1000, minCalls: () => opts.minCalls ?? 4, now: () => now });
  return { t, advance: (ms: number) => void (now += ms) };
}

describe('SlowCallTracker', () => {
  it('trips only after minCalls, when the slow share reaches the ratio', () => {
    const { t } = tracker();
    expect(t.record(true)).toBe(false);
    expect(t.record(true)).toBe(false);
    expect(t.record(false)).toBe(false);
    expect(t.record(false)).toBe(true); // 2 of 4
    expect(t.record(false)).toBe(false); // 2 of 5
  });

  it('forgets calls older than the window', () => {
    const { t, advance } = tracker({ minCalls: 2 });
    t.record(true);
    t.record(true);
    advance(1001);
    expect(t.record(false)).toBe(false); // the slow ones fell out: 1 call
    expect(t.record(false)).toBe(false); // 0 of 2
  });

  it('keeps at most the last 1000 calls', () => {
    const { t } = tracker({ ratio: 0.001, minCalls: 1 });
    t.record(true);
    for (let i = 0; i < 999; i++) t.record(false);
    expect(t.record(false)).toBe(false); // the one slow call was the oldest and dropped out
  });

  it('reset empties the window', () => {
    const { t } = tracker({ minCalls: 1 });
    expect(t.record(true)).toBe(true);
    t.reset();
    expect(t.record(false)).toBe(false);
  });
});
