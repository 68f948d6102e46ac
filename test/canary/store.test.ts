import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CanaryStore } from '../../gateway/src/canary/store/canary-store.ts';
import type { PairRecord } from '../../gateway/src/canary/store/pair-record.ts';
import { GOOD, makePairs } from './support/pairs.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('canary store', () => {
  it('keeps pairs, counters and verdicts across a reopen', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'));
    dirs.push(dir);
    const file = path.join(dir, 'sub', 'canary.sqlite');
    const a = new CanaryStore(file);
    for (const p of makePairs(5, GOOD)) a.addPair(p);
    a.count('c', 'eligible', 100);
    a.count('c', 'sampled', 5);
    a.count('c', 'eligible');
    expect(a.counters('c')).toEqual({ eligible: 101, sampled: 5 });
    a.flush();
    a.count('c', 'sampled');
    a.addVerdict('c', { at: 1, verdict: 'hold', compared: 5, reasons: ['sample too small'] });
    a.close();
    a.close();

    const b = new CanaryStore(file, { readonly: true });
    expect(b.counters('c')).toEqual({ eligible: 101, sampled: 6 });
    const recent = b.recentWindow('c', 3);
    expect(recent.map((p) => p.traceId)).toEqual(['t2', 't3', 't4']);
    expect(recent[0]!.metrics!.distance).toBeCloseTo(GOOD.distance + 0.008, 6);
    expect(b.verdicts('c')).toEqual([{ at: 1, verdict: 'hold', compared: 5, reasons: ['sample too small'] }]);
    expect(b.canaries()).toEqual(['c']);
    b.close();
  });

  it('keeps the newest judged pairs in the window however many unjudged ones follow, and prunes only those', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'));
    dirs.push(dir);
    const store = new CanaryStore(path.join(dir, 'canary.sqlite'));
    const judged = makePairs(4, GOOD).map((p, i) => ({ ...p, traceId: `j${i}` }));
    const unjudged = (i: number): PairRecord => {
      const { metrics: _, ...rest } = judged[0]!;
      return { ...rest, traceId: `u${i}` };
    };
    for (const p of judged) store.addPair(p);
    for (let i = 0; i < 10; i++) store.addPair(unjudged(i));
    // 4 judged then 10 unjudged: a window of 3 is the newest 3 of each, oldest first.
    expect(store.recentWindow('c', 3).map((p) => p.traceId)).toEqual(['j1', 'j2', 'j3', 'u7', 'u8', 'u9']);
    store.pruneUnjudged('c', 2);
    expect(store.recentWindow('c', 100).map((p) => p.traceId)).toEqual(['j0', 'j1', 'j2', 'j3', 'u8', 'u9']);
    store.close();
  });
});
