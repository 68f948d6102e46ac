/**
 * The gateway's performance goals, checked against one run's results. Each row carries the measured value,
 * the same-run baseline it is compared with, and whether the goal is met (undefined when the
 * phase did not run).
 * @module
 */
import type { AbortResult } from './aborts.ts';
import type { DegradationResult } from './degradation.ts';
import type { FailoverResult } from './failover.ts';
import type { ScenarioResult, TargetSummary } from './overhead.ts';
import type { ScaleResult } from './scale.ts';
import type { ShadowCostResult } from './shadow-cost.ts';
import { fmt, round } from '../lib/stats.ts';

export interface SuiteResults {
  overhead?: ScenarioResult[];
  shadow?: ShadowCostResult[];
  aborts?: AbortResult[];
  failover?: FailoverResult;
  scale?: ScaleResult;
  degradation?: DegradationResult;
}

export interface GoalRow {
  metric: string;
  goal: string;
  measured: string;
  baseline: string;
  met: boolean | undefined;
}

function target(r: SuiteResults, scenario: string, name: string): TargetSummary | undefined {
  return r.overhead?.find((s) => s.id === scenario)?.targets.find((t) => t.target === name);
}

/** Gateway throughput ÷ raw above this is a disturbed baseline, not a result. */
const DISTURBED_RATIO = 1.1;

const signed = (x: number, unit: string) => `${x >= 0 ? '+' : ''}${fmt(x, unit)}`;

/**
 * Judged on the shadow phase's paired windows when it ran (shadow-cost.ts); else on the overhead
 * matrix's medians, which two 5-s runs make too noisy for a ±5 % goal (said in the row).
 */
function shadowCost(r: SuiteResults, s: 'paced' | 'sat-c32'): Pick<GoalRow, 'measured' | 'baseline' | 'met'> {
  let d: { cpu: number; main: number; p50: number; offCpu: number; offP50: number; how: string };
  const phase = r.shadow?.find((x) => x.scenario === s);
  if (phase) {
    const e = phase.events;
    const dropped = Object.entries(e).filter(([k, v]) => k.startsWith('dropped_') && v > 0);
    d = {
      cpu: phase.cpuDelta,
      main: phase.mainDelta,
      p50: phase.p50Delta,
      offCpu: phase.off.cpu,
      offP50: phase.off.p50,
      how: `; median of ${phase.pairs} paired windows. Mirror: ${e['sampled'] ?? 0} sampled, ${e['mirrored'] ?? 0} mirrored (audio judged ${e['compared'] ?? 0})${dropped.length ? `, dropped ${dropped.map(([k, v]) => `${v} ${k.slice(8)}`).join(', ')}` : ''}`,
    };
  } else {
    const off = target(r, s, 'gateway');
    const on = target(r, s, 'gateway+shadow');
    if (!off || !on) return { measured: '–', baseline: '–', met: undefined };
    d = {
      cpu: on.cpuMsPerReq / off.cpuMsPerReq - 1,
      main: on.mainThreadCpuMsPerReq / off.mainThreadCpuMsPerReq - 1,
      p50: on.p50 - off.p50,
      offCpu: off.cpuMsPerReq,
      offP50: off.p50,
      how: ' (overhead matrix medians; the shadow phase did not run)',
    };
  }
  return {
    measured: `${signed(d.cpu * 100, '%')} CPU/req (main thread ${signed(d.main * 100, '%')}), ${signed(d.p50, ' ms')} p50${d.how}`,
    baseline: `shadow off: ${fmt(d.offCpu, ' ms')} CPU/req, p50 ${fmt(d.offP50, ' ms')}`,
    met: d.cpu <= 0.05 && d.p50 <= 0.2,
  };
}

export function evaluateGoals(r: SuiteResults): GoalRow[] {
  const rows: GoalRow[] = [];
  const g = (s: string) => target(r, s, 'gateway');
  const raw = (s: string) => target(r, s, 'raw');
  const direct = (s: string) => target(r, s, 'direct');

  {
    const gw = g('unloaded');
    rows.push({
      metric: 'unloaded (c=1) added p50 vs direct',
      goal: '≤ 0.45 ms',
      measured: gw ? `${fmt(gw.addedP50, ' ms')} (p50 ${fmt(gw.p50, ' ms')})` : '–',
      baseline: `direct p50 ${fmt(direct('unloaded')?.p50, ' ms')}; raw proxy adds ${fmt(raw('unloaded')?.addedP50, ' ms')}`,
      met: gw?.addedP50 === undefined ? undefined : gw.addedP50 <= 0.45,
    });
  }
  {
    const gw = g('paced');
    rows.push({
      metric: 'paced ~640 req/s added p50 / p99',
      goal: '≤ 1.5 ms / ≤ 6 ms',
      measured: gw ? `${fmt(gw.addedP50, ' ms')} / ${fmt(gw.addedP99, ' ms')} (at ${fmt(gw.rps)} req/s)` : '–',
      baseline: `direct p50/p99 ${fmt(direct('paced')?.p50)} / ${fmt(direct('paced')?.p99, ' ms')}; raw adds ${fmt(raw('paced')?.addedP50)} / ${fmt(raw('paced')?.addedP99, ' ms')}`,
      met: gw?.addedP50 === undefined || gw.addedP99 === undefined ? undefined : gw.addedP50 <= 1.5 && gw.addedP99 <= 6,
    });
  }
  for (const [s, label, goal] of [
    ['sat-c32', 'saturation c=32 throughput ÷ raw Pool.stream proxy', 0.9],
    ['sat-c128', 'saturation c=128 throughput ÷ raw Pool.stream proxy', 0.9],
    ['large', '1 MiB c=32 throughput ÷ raw Pool.stream proxy', 0.95],
  ] as const) {
    const gw = g(s);
    // The raw pass-through does a subset of the gateway's work: clearly slower than the gateway
    // means that its windows were disturbed (other work on a shared machine), not that the
    // gateway beat its physical limit. Such a ratio is shown but not judged.
    const disturbed = gw?.rpsVsRaw !== undefined && gw.rpsVsRaw > DISTURBED_RATIO;
    rows.push({
      metric: label,
      goal: `≥ ${goal}`,
      measured: gw
        ? `${fmt(gw.rpsVsRaw)} (${fmt(gw.rps)} req/s)${disturbed ? `; not judged: above ${DISTURBED_RATIO}, the raw baseline was disturbed` : ''}`
        : '–',
      baseline: `raw ${fmt(raw(s)?.rps)} req/s; direct ${fmt(direct(s)?.rps)} req/s`,
      met: gw?.rpsVsRaw === undefined || disturbed ? undefined : gw.rpsVsRaw >= goal,
    });
  }
  {
    const a = g('sat-c32');
    const b = g('sat-c128');
    const worst = a && b ? Math.max(a.cpuMsPerReq, b.cpuMsPerReq) : (a ?? b)?.cpuMsPerReq;
    rows.push({
      metric: 'gateway CPU per request at saturation (c=32 / c=128)',
      goal: '≤ 0.45 ms',
      measured: `${fmt(a?.cpuMsPerReq)} / ${fmt(b?.cpuMsPerReq, ' ms')} (main thread ${fmt(a?.mainThreadCpuMsPerReq)} / ${fmt(b?.mainThreadCpuMsPerReq, ' ms')}); ${fmt(a?.cpuVsRaw)}× / ${fmt(b?.cpuVsRaw)}× raw`,
      baseline: `raw ${fmt(raw('sat-c32')?.cpuMsPerReq)} / ${fmt(raw('sat-c128')?.cpuMsPerReq, ' ms')}`,
      met: worst === undefined ? undefined : worst <= 0.45,
    });
  }
  {
    const gw = g('sat-c128');
    rows.push({
      metric: 'gateway RSS at c=128',
      goal: '≤ 160 MB',
      measured: `${fmt(gw?.peakRssMb, ' MB')} (with shadow ${fmt(target(r, 'sat-c128', 'gateway+shadow')?.peakRssMb, ' MB')})`,
      baseline: `raw ${fmt(raw('sat-c128')?.peakRssMb, ' MB')}`,
      met: gw === undefined ? undefined : gw.peakRssMb <= 160,
    });
  }
  for (const s of ['paced', 'sat-c32'] as const) {
    rows.push({
      metric: `5% shadow on vs off (${s === 'paced' ? 'paced ~640 req/s' : 'saturation c=32'})`,
      goal: '≤ +5% CPU/req, ≤ +0.2 ms p50',
      ...shadowCost(r, s),
    });
  }
  {
    const gw = r.aborts?.find((a) => a.target === 'gateway');
    const rw = r.aborts?.find((a) => a.target === 'raw');
    rows.push({
      metric: 'client aborts (200 mid-body + wrk runs ending mid-body)',
      goal: '0 crashes, 0 leaked upstream sockets',
      measured: gw
        ? `${gw.alive && gw.servesAfter ? 0 : 1} crashes; ${gw.upstreamActiveAfter} upstream requests left open; fds ${gw.fdsBefore}→${gw.fdsAfter}; upstream sockets ${gw.upstreamSocketsBefore}→${gw.upstreamSocketsAfter}`
        : '–',
      baseline: rw ? `raw: ${rw.upstreamActiveAfter} left open; fds ${rw.fdsBefore}→${rw.fdsAfter}` : '–',
      met: gw === undefined ? undefined : gw.alive && gw.servesAfter && gw.upstreamActiveAfter === 0,
    });
  }
  {
    const f = r.failover;
    // Saved runs from before the flag existed: the same test (steady p50 over 4 × the 50 ms upstream).
    const overloaded = f ? (f.steadyOverloaded ?? f.steady.p50 > 200) : false;
    rows.push({
      metric: 'region killed under paced load',
      goal: '0 client-visible 5xx; switch p99 ≤ 2× steady',
      measured: f
        ? `${f.status5xx} 5xx + ${f.transportErrors} transport errors of ${f.requests} at ${f.rate} req/s; switch p99 ${fmt(f.switch.p99, ' ms')} = ${fmt(f.switchP99VsSteady)}× steady${overloaded ? ' (p99 not judged: the gateway was already overloaded before the kill)' : ''}`
        : '–',
      baseline: f ? `steady p50/p99 ${fmt(f.steady.p50)} / ${fmt(f.steady.p99, ' ms')} (same run, before the kill)` : '–',
      met: f === undefined ? undefined : f.status5xx > 0 || f.transportErrors > 0 ? false : overloaded ? undefined : f.switchP99VsSteady <= 2,
    });
  }
  {
    const s = r.scale?.routing;
    const last = s?.[s.length - 1];
    rows.push({
      metric: `routing decision cost, ${s?.[0]?.nodes ?? 10} → ${last?.nodes ?? 1000} nodes`,
      goal: 'flat (≤ 1.5×)',
      measured: s ? `${s.map((p) => `${p.totalUs} µs`).join(' → ')} (${fmt(last?.vsSmallest)}×)` : '–',
      baseline: s ? `${s[0]!.nodes} nodes: ${s[0]!.totalUs} µs` : '–',
      met: last?.vsSmallest === undefined ? undefined : last.vsSmallest <= 1.5,
    });
    const h = r.scale?.health;
    const hl = h?.[h.length - 1];
    rows.push({
      metric: 'health-check CPU per node probe, 10 → 1,000 nodes',
      goal: 'flat per node (≤ 1.5×)',
      measured: h ? `${h.map((p) => `${p.cpuUsPerNodeProbe} µs`).join(' → ')}; ${fmt(hl?.cpuMsPerSweep, ' ms')}/sweep at ${hl?.nodes}` : '–',
      baseline: h ? `${h[0]!.nodes} nodes: ${h[0]!.cpuUsPerNodeProbe} µs/node` : '–',
      met: hl?.perNodeVsSmallest === undefined ? undefined : hl.perNodeVsSmallest <= 1.5,
    });
  }
  return rows.map((x) => ({ ...x, measured: x.measured, baseline: x.baseline }));
}

export function goalsMet(rows: GoalRow[]): { met: number; missed: number; notRun: number } {
  return {
    met: rows.filter((r) => r.met === true).length,
    missed: rows.filter((r) => r.met === false).length,
    notRun: rows.filter((r) => r.met === undefined).length,
  };
}

export { round };
