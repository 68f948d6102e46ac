/**
 * Many short windows of one overhead scenario, the targets taking turns (A B, B A, A B …) after a
 * warm-up each. On this shared machine one window's CPU per request drifts by ±20–40 % within a
 * minute; two targets measured back to back drift together, so the ratio of each adjacent pair
 * is far steadier than the ratio of two separate runs. Used where a few per cent decide: the
 * shadow's cost (shadow-cost.ts) and V8 or build A/Bs (gc-windows.ts).
 * @module
 */
import type { Progress } from '../lib/progress.ts';
import { round } from '../lib/stats.ts';
import { measure, type Scenario } from './overhead.ts';
import type { Target, TargetName } from './targets.ts';

export interface Window {
  target: TargetName;
  /** Pair number: the windows with the same index were measured back to back. */
  index: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Whole-process and main-thread CPU ms per request. */
  cpu: number;
  main: number;
  rss: number;
  /** What `counters` counted during the window (after − before). */
  counted: Record<string, number>;
}

export interface AlternatingOptions {
  windows: number;
  seconds: number;
  warmupS: number;
  bodies: string[];
  /** Cumulative counters read before and after each window (GC events, shadow events…). */
  counters?: (t: Target) => Promise<Record<string, number>>;
  progress?: Progress;
}

/** Progress steps: one per warm-up and one per window. */
export function alternatingSteps(targets: number, o: Pick<AlternatingOptions, 'windows' | 'warmupS'>): number {
  return targets * (o.windows + (o.warmupS > 0 ? 1 : 0));
}

async function one(t: Target, s: Scenario, seconds: number, o: AlternatingOptions, index: number): Promise<Window> {
  const before = (await o.counters?.(t)) ?? {};
  const { load, cpuMs, mainMs, rss } = await measure(t, s, seconds, o.bodies);
  const after = (await o.counters?.(t)) ?? {};
  const requests = Math.max(1, load.requests);
  const counted = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  return {
    target: t.name,
    index,
    requests: load.requests,
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    cpu: cpuMs / requests,
    main: mainMs / requests,
    rss,
    counted,
  };
}

export async function alternatingWindows(targets: Target[], s: Scenario, o: AlternatingOptions): Promise<Window[]> {
  for (const t of o.warmupS > 0 ? targets : []) {
    o.progress?.begin(`${s.id} · ${t.name} · warm-up ${o.warmupS}s`);
    const w = await one(t, s, o.warmupS, o, -1);
    o.progress?.end(`${Math.round(w.rps)} req/s`);
  }
  const out: Window[] = [];
  for (let i = 0; i < o.windows; i++) {
    for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
      o.progress?.begin(`${s.id} · ${t.name} · window ${i + 1}/${o.windows}`);
      const w = await one(t, s, o.seconds, o, i);
      out.push(w);
      o.progress?.end(`${Math.round(w.rps)} req/s, p50 ${round(w.p50)} ms, CPU ${round(w.cpu)} ms/req (main ${round(w.main)})`);
    }
  }
  return out;
}

/** `f(b's window, a's window)` for every pair both measured. */
export function paired(windows: readonly Window[], a: TargetName, b: TargetName, f: (bw: Window, aw: Window) => number): number[] {
  const as = new Map(windows.filter((w) => w.target === a).map((w) => [w.index, w]));
  return windows.filter((w) => w.target === b && as.has(w.index)).map((w) => f(w, as.get(w.index)!));
}
