/**
 * The gateway benchmark suite: overhead matrix, shadow cost and client aborts on one set of targets, then a
 * region kill, the scale curves and the degradation curve, each phase owning and stopping its
 * processes. `stopAll()` in the caller's `finally` is the last line of defence.
 * @module
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runAborts } from './aborts.ts';
import { runDegradation } from './degradation.ts';
import { runFailover } from './failover.ts';
import type { SuiteResults } from './goals.ts';
import { overheadSteps, runOverhead, SCENARIOS, targetsFor, type RunRow, type Scenario } from './overhead.ts';
import { runScale } from './scale.ts';
import { runShadowCost, shadowCostSteps } from './shadow-cost.ts';
import { startTargets, type TargetName, type TargetSet } from './targets.ts';
import { buckets, summarize } from '../lib/cpuprofile.ts';
import { table } from '../lib/markdown.ts';
import type { Progress } from '../lib/progress.ts';

export type Phase = 'overhead' | 'shadow' | 'aborts' | 'failover' | 'scale' | 'degradation';
export const ALL_PHASES: Phase[] = ['overhead', 'shadow', 'aborts', 'failover', 'scale', 'degradation'];

export interface SuiteOptions {
  dir: string;
  phases: Phase[];
  scenarios?: Scenario[];
  /** Only these targets (default: every target the scenarios name). */
  targets?: TargetName[];
  durationS: number;
  warmupS: number;
  reps: number;
  /** Shadow on vs off: pairs of alternating windows per scenario, and each window's length. */
  shadow: { pairs: number; seconds: number };
  abortClients: number;
  abortWrkRuns: number;
  failover: { rate: number; durationMs: number; killAtMs: number };
  scale: { sizes: number[]; budgetMs: number; sweeps: number };
  degradation: { nodes: number; slots: number; queue: number; multiples: number[]; levelMs: number };
  profile: boolean;
  progress: Progress;
}

export interface SuiteOutput {
  results: SuiteResults;
  rows: RunRow[];
  notes: string[];
  hotSpots?: string;
}

/** Steps shown by the progress display (an estimate where nginx may be skipped). */
export function suiteSteps(o: Omit<SuiteOptions, 'progress'>): number {
  const scenarios = o.scenarios ?? SCENARIOS;
  let n = 0;
  if (o.phases.includes('overhead')) n += overheadSteps({ scenarios, reps: o.reps, ...(o.targets ? { targets: o.targets } : {}) });
  if (o.phases.includes('shadow')) n += shadowCostSteps({ pairs: o.shadow.pairs, warmupS: o.warmupS });
  if (o.phases.includes('aborts')) n += 2;
  if (o.phases.includes('failover')) n += 2;
  if (o.phases.includes('scale')) n += 2;
  if (o.phases.includes('degradation')) n += 1 + o.degradation.multiples.length;
  return n;
}

function mainProfile(profDir: string, pid: number): string | undefined {
  if (!existsSync(profDir)) return undefined;
  const file = readdirSync(profDir).find((f) => f.includes(`.${pid}.0.`) && f.endsWith('.cpuprofile'));
  return file ? join(profDir, file) : undefined;
}

/**
 * "What costs what": main-thread self time of each profiled process grouped into buckets, turned
 * into µs per request with the main-thread CPU/request measured at saturation (c=32).
 */
function hotSpots(profDir: string, procs: { name: string; pid: number; mainMsPerReq: number | undefined }[]): string | undefined {
  const cols = procs.map((p) => ({ ...p, file: mainProfile(profDir, p.pid) })).filter((p) => p.file);
  if (cols.length === 0) return undefined;
  const per = cols.map((c) => new Map(buckets(c.file!).map((b) => [b.name, b.share])));
  const names = [...new Set(per.flatMap((m) => [...m.keys()]))];
  const us = (i: number, name: string) => (per[i]!.get(name) ?? 0) * (cols[i]!.mainMsPerReq ?? Number.NaN) * 1000;
  names.sort((a, b) => us(cols.length - 1, b) - us(cols.length - 1, a));
  const gw = cols.findIndex((c) => c.name === 'gateway');
  const top = gw >= 0 ? summarize(cols[gw]!.file!, 12) : undefined;
  return [
    "Main-thread self time from `node --cpu-prof` over the whole run (startup excluded), grouped into buckets and scaled to µs per request with each process's main-thread CPU/request at saturation c=32. Worker threads (GC helpers, the canary judge) are not in these columns; see the CPU columns above for whole-process figures.",
    '',
    table(
      ['bucket', ...cols.map((c) => `${c.name} µs/req`)],
      [
        ...names.map((n) => [n, ...cols.map((_, i) => (Number.isFinite(us(i, n)) ? Math.round(us(i, n)) : '–'))]),
        ['**main thread total**', ...cols.map((c) => (c.mainMsPerReq === undefined ? '–' : `**${Math.round(c.mainMsPerReq * 1000)}**`))],
      ],
    ),
    ...(top
      ? [
          '',
          'Top gateway functions by self time:',
          '',
          table(
            ['function', 'share of busy', 'self ms'],
            top.byFunction.map((h) => [h.name, `${(h.share * 100).toFixed(1)}%`, Math.round(h.selfMs)]),
          ),
        ]
      : []),
  ].join('\n');
}

export async function runSuite(o: SuiteOptions): Promise<SuiteOutput> {
  const results: SuiteResults = {};
  const notes: string[] = [];
  let rows: RunRow[] = [];
  let hot: string | undefined;
  const scenarios = o.scenarios ?? SCENARIOS;

  if (o.phases.includes('overhead') || o.phases.includes('shadow') || o.phases.includes('aborts')) {
    const names = new Set<TargetName>(o.phases.includes('overhead') ? targetsFor({ scenarios, ...(o.targets ? { targets: o.targets } : {}) }) : []);
    if (o.phases.includes('shadow')) for (const n of ['gateway', 'gateway+shadow'] as const) names.add(n);
    if (o.phases.includes('aborts')) for (const n of ['direct', 'raw', 'gateway'] as const) names.add(n);
    const profDir = join(o.dir, 'prof');
    if (o.profile) mkdirSync(profDir, { recursive: true });
    o.progress.note(`starting targets: ${[...names].join(', ')}`);
    let set: TargetSet | undefined;
    try {
      set = await startTargets({ dir: o.dir, names: [...names], ...(o.profile ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}) });
      notes.push(...set.notes);
      for (const n of set.notes) o.progress.note(n);
      if (o.phases.includes('overhead')) {
        // Only what the overhead scenarios asked for: the shadow phase may have started more.
        const started = set.targets.map((t) => t.name).filter((t) => !o.targets || o.targets.includes(t));
        const out = await runOverhead(
          { dir: o.dir, durationS: o.durationS, warmupS: o.warmupS, reps: o.reps, scenarios, targets: started, progress: o.progress },
          set,
        );
        results.overhead = out.scenarios;
        rows = out.rows;
      }
      if (o.phases.includes('shadow')) results.shadow = await runShadowCost(set, { ...o.shadow, warmupS: o.warmupS, progress: o.progress });
      if (o.phases.includes('aborts')) results.aborts = await runAborts(set, { clients: o.abortClients, wrkRuns: o.abortWrkRuns, progress: o.progress });
    } finally {
      const procs = (set?.targets ?? [])
        .filter((t) => t.name === 'raw' || t.name === 'gateway' || t.name === 'gateway+shadow')
        .map((t) => ({
          name: t.name,
          pid: t.pid,
          mainMsPerReq: results.overhead?.find((s) => s.id === 'sat-c32')?.targets.find((x) => x.target === t.name)?.mainThreadCpuMsPerReq,
        }));
      await set?.close();
      if (o.profile) hot = hotSpots(profDir, procs);
    }
  }
  if (o.phases.includes('failover')) {
    // A region kill is only meaningful from a steady state: when this machine cannot carry the
    // nominal rate through the gateway (its saturation throughput measured above), offer 30 % of
    // what it can carry instead (the open-loop client shares the cores), and say so.
    const sat = results.overhead?.find((s) => s.id === 'sat-c32')?.targets.find((t) => t.target === 'gateway')?.rps;
    let rate = o.failover.rate;
    if (sat !== undefined && sat * 0.3 < rate) {
      rate = Math.max(20, Math.round(sat * 0.3));
      const note = `region-kill scenario offered ${rate} req/s instead of ${o.failover.rate}: the gateway saturated at ${Math.round(sat)} req/s on this machine in this run, and a kill is measured from a steady state.`;
      notes.push(note);
      o.progress.note(note);
    }
    results.failover = await runFailover({ dir: o.dir, ...o.failover, rate, steadyMs: 2_000, switchMs: 1_500, progress: o.progress });
  }
  if (o.phases.includes('scale')) results.scale = await runScale({ dir: o.dir, ...o.scale, progress: o.progress });
  if (o.phases.includes('degradation')) results.degradation = await runDegradation({ dir: o.dir, ...o.degradation, progress: o.progress });
  return { results, rows, notes, ...(hot ? { hotSpots: hot } : {}) };
}
