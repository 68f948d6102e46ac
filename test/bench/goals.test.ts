import { describe, expect, it } from 'vitest';
import { evaluateGoals } from '../../bench/gateway/goals.ts';
import type { ScenarioResult, TargetSummary } from '../../bench/gateway/overhead.ts';
import { paired, type Window } from '../../bench/gateway/alternating.ts';
import type { ShadowCostResult } from '../../bench/gateway/shadow-cost.ts';

const summary = (target: TargetSummary['target'], rps: number, rpsVsRaw?: number): TargetSummary => ({
  target,
  reps: 2,
  rps,
  p50: 1,
  p90: 1,
  p99: 1,
  errors: 0,
  non2xx: 0,
  cpuMsPerReq: 0.2,
  mainThreadCpuMsPerReq: 0.2,
  peakRssMb: 100,
  ...(rpsVsRaw === undefined ? {} : { rpsVsRaw }),
  perRep: [],
});

const scenario = (id: string, ratio: number): ScenarioResult => ({
  id,
  title: id,
  connections: 32,
  knobs: {},
  targets: [summary('raw', 1000), summary('gateway', 1000 * ratio, ratio)],
});

const row = (id: string, ratio: number, metric: string) => evaluateGoals({ overhead: [scenario(id, ratio)] }).find((g) => g.metric.startsWith(metric))!;

describe('bench goals: throughput against the raw pass-through', () => {
  it('is met at or above the goal and missed below it', () => {
    expect(row('sat-c32', 0.95, 'saturation c=32').met).toBe(true);
    expect(row('sat-c32', 0.7, 'saturation c=32').met).toBe(false);
    expect(row('large', 0.94, '1 MiB').met).toBe(false);
  });

  it('does not judge a gateway more than 10 % faster than raw: the baseline was disturbed', () => {
    const r = row('large', 1.49, '1 MiB');
    expect(r.met).toBeUndefined();
    expect(r.measured).toContain('raw baseline was disturbed');
  });
});

describe('bench goals: shadow on vs off', () => {
  const phase = (cpuDelta: number, p50Delta: number): ShadowCostResult => ({
    scenario: 'sat-c32',
    title: 'saturation c=32',
    pairs: 6,
    seconds: 3,
    off: { rps: 1000, p50: 5, cpu: 0.3, main: 0.25 },
    on: { rps: 1000, p50: 5 + p50Delta, cpu: 0.3 * (1 + cpuDelta), main: 0.25 },
    cpuDelta,
    mainDelta: 0,
    p50Delta,
    events: { sampled: 50, mirrored: 47, compared: 2, unjudged: 44, dropped_cap: 3 },
  });
  const shadowRow = (r: Parameters<typeof evaluateGoals>[0]) => evaluateGoals(r).find((g) => g.metric.includes('shadow on vs off (saturation'))!;

  it('is judged on the paired windows, and says what the mirror did', () => {
    const ok = shadowRow({ shadow: [phase(0.03, 0.1)] });
    expect(ok.met).toBe(true);
    expect(ok.measured).toContain('median of 6 paired windows');
    expect(ok.measured).toContain('50 sampled, 47 mirrored (audio judged 2), dropped 3 cap');
    expect(shadowRow({ shadow: [phase(0.08, 0.1)] }).met).toBe(false);
    expect(shadowRow({ shadow: [phase(0.01, 0.5)] }).met).toBe(false);
  });

  it('falls back to the overhead matrix, and says so, when the shadow phase did not run', () => {
    const off = summary('gateway', 1000);
    const on: TargetSummary = { ...summary('gateway+shadow', 1000), cpuMsPerReq: 0.22 };
    const r = shadowRow({ overhead: [{ id: 'sat-c32', title: 'c32', connections: 32, knobs: {}, targets: [off, on] }] });
    expect(r.met).toBe(false);
    expect(r.measured).toContain('+10% CPU/req');
    expect(r.measured).toContain('shadow phase did not run');
  });
});

describe('alternating windows: pairs', () => {
  const w = (target: Window['target'], index: number, cpu: number): Window => ({
    target,
    index,
    requests: 1,
    rps: 1,
    p50: 1,
    p99: 1,
    cpu,
    main: cpu,
    rss: 1,
    counted: {},
  });

  it('pairs windows by index and skips a window without its partner', () => {
    const ws = [w('gateway', 0, 1), w('gateway+shadow', 0, 1.1), w('gateway+shadow', 1, 2), w('gateway', 1, 1.6), w('gateway', 2, 1)];
    expect(paired(ws, 'gateway', 'gateway+shadow', (b, a) => b.cpu / a.cpu)).toEqual([1.1, 1.25]);
  });
});
