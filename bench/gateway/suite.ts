/**
 * The gateway benchmark suite: overhead matrix and client aborts on one set of targets, then a
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
import { startTargets, type TargetSet } from './targets.ts';
import { summarize } from '../lib/cpuprofile.ts';
import { table } from '../lib/markdown.ts';
import type { Progress } from '../lib/progress.ts';

export type Phase = 'overhead' | 'aborts' | 'failover' | 'scale' | 'degradation';
export const ALL_PHASES: Phase[] = ['overhead', 'aborts', 'failover', 'scale', 'degradation'];

export interface SuiteOptions {
  dir: string;
  phases: Phase[];
  scenarios?: Scenario[];
  durationS: number;
  warmupS: number;
  reps: number;
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
  if (o.phases.includes('overhead')) n += overheadSteps({ scenarios, reps: o.reps });
  if (o.phases.includes('aborts')) n += 2;
  if (o.phases.includes('failover')) n += 2;
  if (o.phases.includes('scale')) n += 2;
  if (o.phases.includes('degradation')) n += 1 + o.degradation.multiples.length;
  return n;
}

function hotSpots(profDir: string, pid: number): string | undefined {
  if (!existsSync(profDir)) return undefined;
  const file = readdirSync(profDir).find((f) => f.includes(`.${pid}.0.`) && f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const s = summarize(join(profDir, file), 15);
  return [
    `Whole gateway lifetime (all scenarios), ${Math.round(s.totalMs)} ms sampled, ${Math.round(s.idleShare * 100)}% idle; self time as a share of busy time. Profile: \`${join(profDir, file)}\`.`,
    '',
    table(['file or package', 'share', 'self ms'], s.byFile.map((h) => [h.name, `${(h.share * 100).toFixed(1)}%`, Math.round(h.selfMs)])),
    '',
    table(['function', 'share', 'self ms'], s.byFunction.map((h) => [h.name, `${(h.share * 100).toFixed(1)}%`, Math.round(h.selfMs)])),
  ].join('\n');
}

export async function runSuite(o: SuiteOptions): Promise<SuiteOutput> {
  const results: SuiteResults = {};
  const notes: string[] = [];
  let rows: RunRow[] = [];
  let hot: string | undefined;
  const scenarios = o.scenarios ?? SCENARIOS;

  if (o.phases.includes('overhead') || o.phases.includes('aborts')) {
    const names = o.phases.includes('overhead') ? targetsFor({ scenarios }) : (['direct', 'raw', 'gateway'] as const).slice();
    const profDir = join(o.dir, 'prof');
    if (o.profile) mkdirSync(profDir, { recursive: true });
    o.progress.note(`starting targets: ${names.join(', ')}`);
    let set: TargetSet | undefined;
    try {
      set = await startTargets({ dir: o.dir, names, ...(o.profile ? { gatewayNodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}) });
      notes.push(...set.notes);
      for (const n of set.notes) o.progress.note(n);
      if (o.phases.includes('overhead')) {
        const started = set.targets.map((t) => t.name);
        const out = await runOverhead({ dir: o.dir, durationS: o.durationS, warmupS: o.warmupS, reps: o.reps, scenarios, targets: started, progress: o.progress }, set);
        results.overhead = out.scenarios;
        rows = out.rows;
      }
      if (o.phases.includes('aborts')) results.aborts = await runAborts(set, { clients: o.abortClients, wrkRuns: o.abortWrkRuns, progress: o.progress });
    } finally {
      const gwPid = set?.targets.find((t) => t.name === 'gateway')?.pid;
      await set?.close();
      if (o.profile && gwPid !== undefined) hot = hotSpots(profDir, gwPid);
    }
  }
  if (o.phases.includes('failover')) results.failover = await runFailover({ dir: o.dir, ...o.failover, steadyMs: 2_000, switchMs: 1_500, progress: o.progress });
  if (o.phases.includes('scale')) results.scale = await runScale({ dir: o.dir, ...o.scale, progress: o.progress });
  if (o.phases.includes('degradation')) results.degradation = await runDegradation({ dir: o.dir, ...o.degradation, progress: o.progress });
  return { results, rows, notes, ...(hot ? { hotSpots: hot } : {}) };
}
