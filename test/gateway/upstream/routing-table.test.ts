/**
 * The routing table (per-model host sets): counts follow endpoint state without a scan per
 * request, and stay right across `EndpointSet.update` and pack reports.
 */
import { describe, expect, it } from 'vitest';
import { poolView } from '../../../gateway/src/request-path/plan/pool-view.ts';
import { ManualClock } from '../../../gateway/src/lifecycle/clock.ts';
import { EndpointSet } from '../../../gateway/src/upstream/endpoints.ts';

const node = (id: string, models = ['m']) => ({ id, url: `http://127.0.0.1:1/${id}`, models });
const ids = (list: readonly { id: string }[]) => list.map((e) => e.id);

describe('routing table', () => {
  it('counts per region: total, available, fresh (available and not saturated)', () => {
    const clock = new ManualClock();
    const set = new EndpointSet(
      [
        { name: 'a', priority: 0, nodes: [node('a1'), node('a2'), node('ax', ['x'])] },
        { name: 'b', priority: 1, nodes: [node('b1')] },
      ],
      clock,
    );
    const now = clock.now();
    let h = set.hosts('m', undefined, now);
    expect(ids(h.nodes)).toEqual(['a1', 'a2', 'b1']);
    expect([h.available, h.fresh, h.regions.get('a')!.total]).toEqual([3, 3, 2]);
    set.get('a1')!.saturatedUntil = now + 500;
    set.get('b1')!.healthy = false;
    h = set.hosts('m', undefined, now);
    expect([h.available, h.fresh]).toEqual([2, 1]);
    expect(ids(h.regions.get('a')!.fresh)).toEqual(['a2']);
    expect(poolView(set, 'm', now).available).toBe(1);
    clock.advance(500);
    expect(set.hosts('m', undefined, clock.now()).fresh).toBe(2);
  });

  it('stays right after EndpointSet.update: added, removed and re-modelled nodes, state kept', () => {
    const clock = new ManualClock();
    const set = new EndpointSet([{ name: 'a', priority: 0, nodes: [node('a1'), node('a2')] }], clock);
    set.get('a2')!.healthy = false;
    expect(set.hosts('m', undefined, clock.now()).available).toBe(1);
    set.update([
      { name: 'a', priority: 0, nodes: [node('a2'), node('a3', ['m', 'x'])] },
      { name: 'b', priority: 1, nodes: [node('b1', ['x'])] },
    ]);
    const m = set.hosts('m', undefined, clock.now());
    expect(ids(m.nodes)).toEqual(['a2', 'a3']);
    expect(m.available).toBe(1); // a2 is still unhealthy
    expect(ids(set.hosts('x', undefined, clock.now()).nodes)).toEqual(['a3', 'b1']);
    expect(ids(set.inRegion('b'))).toEqual(['b1']);
    expect(ids(set.all())).toEqual(['a2', 'a3', 'b1']);
    set.update([{ name: 'a', priority: 0, nodes: [node('a2', ['x'])] }]);
    expect(set.hosts('m', undefined, clock.now()).nodes.length).toBe(0);
  });

  it('a pack report changes membership for that pack at once', () => {
    const clock = new ManualClock();
    const set = new EndpointSet([{ name: 'a', priority: 0, nodes: [node('a1'), node('a2')] }], clock);
    const now = clock.now();
    expect(set.hosts('m', 'p', now).fresh).toBe(2);
    set.get('a1')!.load = { ready: true, draining: false, slots: 1, inflight: 0, queueDepth: 0, queueLimit: 4, latencyEwmaMs: 10, packs: ['q'], at: now };
    expect(ids(set.hosts('m', 'p', now).nodes)).toEqual(['a2']);
    expect(ids(set.hosts('m', 'q', now).nodes)).toEqual(['a1', 'a2']);
  });

  it('room() counts only fresh nodes of the model', () => {
    const clock = new ManualClock();
    const set = new EndpointSet([{ name: 'a', priority: 0, nodes: [node('a1'), node('a2'), node('ax', ['x'])] }], clock);
    for (const e of set.all())
      e.load = { ready: true, draining: false, slots: 2, inflight: 0, queueDepth: 0, queueLimit: 3, latencyEwmaMs: 10, at: clock.now() };
    expect(set.room('m')).toBe(10);
    set.get('a1')!.ejectedUntil = clock.now() + 100;
    expect(set.room('m')).toBe(5);
  });
});
