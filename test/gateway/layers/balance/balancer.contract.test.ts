import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Balancer } from '../../../../gateway/src/layers/balance/balancer.ts';
import { p2c } from '../../../../gateway/src/layers/balance/p2c.ts';
import { roundRobin } from '../../../../gateway/src/layers/balance/round-robin.ts';
import { ManualClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { Endpoint } from '../../../../gateway/src/upstream/endpoints.ts';

const clock = new ManualClock();

const mk = (id: string, inflight = 0) => {
  const e = new Endpoint({ id, url: `http://127.0.0.1:1/${id}`, models: ['m'] }, 'r', clock);
  e.inflight = inflight;
  return e;
};

function runContract(newBalancer: () => Balancer) {
  it('returns undefined for no candidates and the only one for one', () => {
    const b = newBalancer();
    expect(b.pick([])).toBeUndefined();
    const only = mk('a');
    expect(b.pick([only])).toBe(only);
  });
  it('always picks one of the candidates', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 12 }), (loads) => {
        const c = loads.map((l, i) => mk(`n${i}`, l));
        const picked = newBalancer().pick(c);
        return picked !== undefined && c.includes(picked);
      }),
    );
  });
  it('spreads requests over every candidate', () => {
    const b = newBalancer();
    const c = [mk('a'), mk('b'), mk('c'), mk('d')];
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(b.pick(c)!.id);
    expect(seen.size).toBe(4);
  });
}

describe('balancer contract: p2c', () => runContract(() => p2c()));
describe('balancer contract: round robin', () => runContract(() => roundRobin()));

describe('p2c specifics', () => {
  it('its two picks always differ, so the busier of two nodes is never chosen', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.9999, noNaN: true }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (r1, r2) => {
        const seq = [r1, r2];
        let k = 0;
        const idle = mk('idle', 0);
        const busy = mk('busy', 9);
        return p2c(() => seq[k++ % 2]!).pick([idle, busy]) === idle;
      }),
    );
  });
  it('sends most traffic to the least loaded node of many', () => {
    const c = [mk('a', 8), mk('b', 8), mk('c', 0), mk('d', 8)];
    const b = p2c();
    let toC = 0;
    for (let i = 0; i < 1000; i++) if (b.pick(c)!.id === 'c') toC++;
    // c wins every pair it is drawn into: P = 1 - (3/4 · 2/3) = 0.5
    expect(toC).toBeGreaterThan(420);
    expect(toC).toBeLessThan(580);
  });
});
