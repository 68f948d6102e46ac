import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/lifecycle/clock.ts';
import { Endpoint } from '../../../gateway/src/upstream/endpoints.ts';

describe('endpoint peak latency (the balancer score)', () => {
  it('is at least the age of the oldest request in flight, and the next oldest once that one ends', () => {
    const clock = new ManualClock();
    const e = new Endpoint({ id: 'a', url: 'http://127.0.0.1:1', models: ['m'] }, 'r', clock);
    e.observeLatency(50);
    const first = e.begin();
    clock.advance(10);
    const second = e.begin();
    clock.advance(5);
    const third = e.begin();
    clock.advance(285); // in flight: first 300 ms, second 290 ms, third 285 ms
    expect(e.latencyMs()).toBe(300);
    e.end(first);
    expect(e.latencyMs()).toBe(290);
    // Ending a younger request first leaves the oldest as it was.
    e.end(third);
    expect(e.latencyMs()).toBe(290);
    e.end(second);
    // Nothing in flight: the EWMA, decayed over the 300 ms since it was fed (τ = 5 s).
    expect(e.latencyMs()).toBeCloseTo(50 * Math.exp(-300 / 5_000), 6);
  });
});
