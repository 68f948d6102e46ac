import { describe, expect, it } from 'vitest';
import { evaluateGoals } from '../../bench/gateway/goals.ts';
import type { ScenarioResult, TargetSummary } from '../../bench/gateway/overhead.ts';

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
