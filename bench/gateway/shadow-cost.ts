/**
 * What 5 % shadow costs: `gateway` and `gateway+shadow` (identical but for the mirror) in
 * alternating windows (alternating.ts) under paced load and at saturation. Each figure is the
 * median over adjacent pairs of shadow-on ÷ shadow-off (CPU per request) or on − off (p50): two
 * runs of 5 s each, as in the overhead matrix, differ by more than the ±5 % the goal allows.
 * The shadow gateway's own counters say what the mirror did meanwhile — mirrored, or dropped
 * by which budget — so a cheap result can be told from a mirror that did nothing.
 * @module
 */
import { request } from 'undici';
import type { Progress } from '../lib/progress.ts';
import { median, round } from '../lib/stats.ts';
import { alternatingSteps, alternatingWindows, paired } from './alternating.ts';
import { benchBodies } from './bodies.ts';
import { SCENARIOS } from './overhead.ts';
import type { Target, TargetSet } from './targets.ts';

export const SHADOW_COST_SCENARIOS = ['paced', 'sat-c32'] as const;

export interface ShadowCostResult {
  scenario: string;
  title: string;
  pairs: number;
  seconds: number;
  /** Medians of each target's windows. */
  off: { rps: number; p50: number; cpu: number; main: number };
  on: { rps: number; p50: number; cpu: number; main: number };
  /** Medians over pairs: on ÷ off − 1 for CPU per request, on − off for p50 (ms). */
  cpuDelta: number;
  mainDelta: number;
  p50Delta: number;
  /** What the mirror did during the windows (shadow_events_total by event). */
  events: Record<string, number>;
}

export interface ShadowCostOptions {
  pairs: number;
  seconds: number;
  warmupS: number;
  progress: Progress;
}

export function shadowCostSteps(o: Pick<ShadowCostOptions, 'pairs' | 'warmupS'>): number {
  return SHADOW_COST_SCENARIOS.length * alternatingSteps(2, { windows: o.pairs, warmupS: o.warmupS });
}

/** The gateway's shadow_events_total, summed over canaries, by event. */
async function shadowEvents(t: Target): Promise<Record<string, number>> {
  if (t.name !== 'gateway+shadow') return {};
  const r = await request(`${t.url}/metrics`);
  const out: Record<string, number> = {};
  for (const line of (await r.body.text()).split('\n')) {
    const m = /^voxgate_gateway_shadow_events_total\{[^}]*event="(\w+)"[^}]*\}\s+(\S+)/.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

export async function runShadowCost(set: TargetSet, o: ShadowCostOptions): Promise<ShadowCostResult[]> {
  const off = set.targets.find((t) => t.name === 'gateway');
  const on = set.targets.find((t) => t.name === 'gateway+shadow');
  if (!off || !on) throw new Error('the shadow phase needs the gateway and gateway+shadow targets');
  const bodies = benchBodies();
  const results: ShadowCostResult[] = [];
  for (const id of SHADOW_COST_SCENARIOS) {
    const s = SCENARIOS.find((x) => x.id === id)!;
    await set.configure({ chunks: 1, failRate: 0, ...s.knobs });
    const windows = await alternatingWindows([off, on], s, {
      windows: o.pairs,
      seconds: o.seconds,
      warmupS: o.warmupS,
      bodies,
      counters: shadowEvents,
      progress: o.progress,
    });
    const of = (name: Target['name']) => {
      const ws = windows.filter((w) => w.target === name);
      return {
        rps: round(median(ws.map((w) => w.rps))),
        p50: round(median(ws.map((w) => w.p50))),
        cpu: round(median(ws.map((w) => w.cpu))),
        main: round(median(ws.map((w) => w.main))),
      };
    };
    const events: Record<string, number> = {};
    for (const w of windows) for (const [k, v] of Object.entries(w.counted)) events[k] = (events[k] ?? 0) + v;
    results.push({
      scenario: id,
      title: s.title,
      pairs: o.pairs,
      seconds: o.seconds,
      off: of('gateway'),
      on: of('gateway+shadow'),
      cpuDelta: round(median(paired(windows, 'gateway', 'gateway+shadow', (b, a) => b.cpu / a.cpu - 1)), 4),
      mainDelta: round(median(paired(windows, 'gateway', 'gateway+shadow', (b, a) => b.main / a.main - 1)), 4),
      p50Delta: round(median(paired(windows, 'gateway', 'gateway+shadow', (b, a) => b.p50 - a.p50))),
      events,
    });
  }
  return results;
}
