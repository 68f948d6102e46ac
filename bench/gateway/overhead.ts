/**
 * The overhead matrix: each scenario runs every target after a warm-up, twice, in alternating
 * order (A B C D, then D C B A) so drift on a shared machine does not favour whoever goes first.
 * Every run records the load generator's view (req/s, p50/p90/p99, errors) and /proc's view of
 * the target process (CPU ms per request, whole process and main thread; peak RSS).
 *
 * Scenarios (docs/proxy-performance.md §3):
 *   unloaded   c=1, 64 KiB, upstream answers at once          → added latency per request
 *   paced      c=64, think 50 ms (exp.), upstream 50 ± 30 ms   → ~640 req/s, added p50/p99
 *   sat-c32    c=32, 64 KiB, no delay                          → throughput ÷ raw, CPU/request
 *   sat-c128   c=128                                            → same, and RSS
 *   large      c=32, 1 MiB bodies                               → streaming throughput ÷ raw
 * @module
 */
import { BENCH_KEY } from './config.ts';
import type { UpstreamKnobs } from './fake-upstream.ts';
import { sanityCheck, type Target, type TargetName, type TargetSet } from './targets.ts';
import { benchBodies } from './bodies.ts';
import { runLoad, type LoadResult } from '../lib/load.ts';
import { meter } from '../lib/proc.ts';
import type { Progress } from '../lib/progress.ts';
import { median, round } from '../lib/stats.ts';

export interface Scenario {
  id: string;
  title: string;
  connections: number;
  thinkMs?: number;
  knobs: Partial<UpstreamKnobs>;
  targets: TargetName[];
}

export const ALL_TARGETS: TargetName[] = ['direct', 'nginx', 'raw', 'gateway', 'gateway+shadow', 'gateway-b'];
/** With BENCH_GATEWAY_B set, every scenario that runs `gateway` also runs the B build beside it. */
const AB = process.env['BENCH_GATEWAY_B'] ? (['gateway-b'] as TargetName[]) : [];
const BASE_TARGETS: TargetName[] = ['direct', 'nginx', 'raw', 'gateway', 'gateway+shadow'];
const KiB64 = 65_536;
const MiB = 1_048_576;

export const SCENARIOS: Scenario[] = [
  { id: 'unloaded', title: 'unloaded, c=1, 64 KiB', connections: 1, knobs: { size: KiB64, delayMs: 0, jitterMs: 0 }, targets: [...BASE_TARGETS, ...AB] },
  {
    id: 'paced',
    title: 'paced ~640 req/s, upstream 50 ± 30 ms, 64 KiB',
    connections: 64,
    thinkMs: 50,
    knobs: { size: KiB64, delayMs: 50, jitterMs: 30 },
    targets: [...BASE_TARGETS, ...AB],
  },
  { id: 'sat-c32', title: 'saturation c=32, 64 KiB', connections: 32, knobs: { size: KiB64, delayMs: 0, jitterMs: 0 }, targets: [...BASE_TARGETS, ...AB] },
  { id: 'sat-c128', title: 'saturation c=128, 64 KiB', connections: 128, knobs: { size: KiB64, delayMs: 0, jitterMs: 0 }, targets: [...BASE_TARGETS, ...AB] },
  // 1 MiB bodies stream through the gateway; with shadow on, a sampled one is also teed for the judge.
  { id: 'large', title: 'saturation c=32, 1 MiB', connections: 32, knobs: { size: MiB, delayMs: 0, jitterMs: 0 }, targets: [...BASE_TARGETS, ...AB] },
];

export interface RunRow {
  scenario: string;
  target: TargetName;
  rep: number;
  load: LoadResult;
  cpuMsPerReq: number;
  mainThreadCpuMsPerReq: number;
  peakRssMb: number;
}

export interface TargetSummary {
  target: TargetName;
  reps: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
  cpuMsPerReq: number;
  mainThreadCpuMsPerReq: number;
  peakRssMb: number;
  /** Target p50 − direct p50 in the same rep (ms). Every figure here is the median over reps:
   * one repetition disturbed by other work on the shared machine moves it little. */
  addedP50?: number;
  addedP99?: number;
  /** Target req/s ÷ raw req/s in the same rep. */
  rpsVsRaw?: number;
  /** Target CPU/request ÷ raw CPU/request in the same rep. */
  cpuVsRaw?: number;
  /** gateway-b only: its CPU/request and req/s ÷ the repo gateway's, same repetition (A/B). */
  cpuVsGateway?: number;
  mainCpuVsGateway?: number;
  rpsVsGateway?: number;
  perRep: { rps: number; p50: number; p99: number; cpuMsPerReq: number }[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  connections: number;
  thinkMs?: number;
  knobs: Partial<UpstreamKnobs>;
  targets: TargetSummary[];
}

export interface OverheadOptions {
  dir: string;
  durationS: number;
  warmupS: number;
  reps: number;
  scenarios: Scenario[];
  targets?: TargetName[];
  progress: Progress;
}

/** Progress steps (warm-up + reps per target per scenario). */
export function overheadSteps(o: Pick<OverheadOptions, 'scenarios' | 'reps' | 'targets'>): number {
  return o.scenarios.reduce((n, s) => n + s.targets.filter((t) => !o.targets || o.targets.includes(t)).length * (o.reps + 1), 0);
}

/** One window of scenario `s` against `t`: the load generator's figures and /proc's. */
export async function measure(
  t: Target,
  s: Scenario,
  durationS: number,
  bodies: string[],
): Promise<{ load: LoadResult; cpuMs: number; mainMs: number; rss: number }> {
  const m = meter(t.pid);
  const load = await runLoad({
    url: t.url,
    connections: s.connections,
    durationS,
    bodies,
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    ...(s.thinkMs ? { thinkMs: s.thinkMs } : {}),
  });
  const c = m.stop();
  return { load, cpuMs: c.cpuMs, mainMs: c.mainThreadCpuMs, rss: c.peakRssMb };
}

function summarise(rows: RunRow[], s: Scenario, names: TargetName[]): TargetSummary[] {
  const reps = [...new Set(rows.map((r) => r.rep))];
  const get = (t: TargetName, rep: number) => rows.find((r) => r.target === t && r.rep === rep);
  return names.map((t) => {
    const mine = rows.filter((r) => r.target === t);
    const per = (f: (r: RunRow) => number) => round(median(mine.map(f)));
    const paired = (f: (mineRow: RunRow, base: RunRow) => number, base: TargetName) => {
      const v = reps.map((rep) => {
        const a = get(t, rep);
        const b = get(base, rep);
        return a && b ? f(a, b) : Number.NaN;
      });
      const m = median(v);
      return Number.isFinite(m) ? round(m) : undefined;
    };
    const out: TargetSummary = {
      target: t,
      reps: mine.length,
      rps: per((r) => r.load.rps),
      p50: per((r) => r.load.p50),
      p90: per((r) => r.load.p90),
      p99: per((r) => r.load.p99),
      errors: mine.reduce((n, r) => n + r.load.errors, 0),
      non2xx: mine.reduce((n, r) => n + r.load.non2xx, 0),
      cpuMsPerReq: per((r) => r.cpuMsPerReq),
      mainThreadCpuMsPerReq: per((r) => r.mainThreadCpuMsPerReq),
      peakRssMb: per((r) => r.peakRssMb),
      perRep: mine.map((r) => ({ rps: round(r.load.rps), p50: round(r.load.p50), p99: round(r.load.p99), cpuMsPerReq: round(r.cpuMsPerReq) })),
    };
    if (t !== 'direct') {
      const a = paired((x, d) => x.load.p50 - d.load.p50, 'direct');
      const b = paired((x, d) => x.load.p99 - d.load.p99, 'direct');
      if (a !== undefined) out.addedP50 = a;
      if (b !== undefined) out.addedP99 = b;
    }
    if (t !== 'raw' && t !== 'direct') {
      const a = paired((x, r) => x.load.rps / r.load.rps, 'raw');
      const b = paired((x, r) => x.cpuMsPerReq / r.cpuMsPerReq, 'raw');
      if (a !== undefined) out.rpsVsRaw = a;
      if (b !== undefined) out.cpuVsRaw = b;
    }
    if (t === 'gateway-b') {
      const a = paired((x, g) => x.cpuMsPerReq / g.cpuMsPerReq, 'gateway');
      const b = paired((x, g) => x.load.rps / g.load.rps, 'gateway');
      const c = paired((x, g) => x.mainThreadCpuMsPerReq / g.mainThreadCpuMsPerReq, 'gateway');
      if (c !== undefined) out.mainCpuVsGateway = c;
      if (a !== undefined) out.cpuVsGateway = a;
      if (b !== undefined) out.rpsVsGateway = b;
    }
    return out;
  });
}

/** The targets every scenario in `o` needs, in table order. */
export function targetsFor(o: Pick<OverheadOptions, 'scenarios' | 'targets'>): TargetName[] {
  const wanted = new Set(o.scenarios.flatMap((s) => s.targets).filter((t) => !o.targets || o.targets.includes(t)));
  return ALL_TARGETS.filter((t) => wanted.has(t));
}

/** Runs every scenario against targets already started (the caller owns and closes `set`). */
export async function runOverhead(o: OverheadOptions, set: TargetSet): Promise<{ scenarios: ScenarioResult[]; rows: RunRow[] }> {
  const rows: RunRow[] = [];
  const results: ScenarioResult[] = [];
  {
    const bodies = benchBodies();
    for (const s of o.scenarios) {
      const targets = set.targets.filter((t) => s.targets.includes(t.name));
      await set.configure({ chunks: 1, failRate: 0, ...s.knobs });
      await sanityCheck(targets, bodies[0]!, s.knobs.size ?? KiB64);
      for (const t of o.warmupS > 0 ? targets : []) {
        o.progress.begin(`${s.id} · ${t.name} · warm-up ${o.warmupS}s`);
        const w = await measure(t, s, o.warmupS, bodies);
        o.progress.end(`${Math.round(w.load.rps)} req/s`);
      }
      for (let rep = 1; rep <= o.reps; rep++) {
        const order = rep % 2 === 1 ? targets : [...targets].reverse();
        for (const t of order) {
          o.progress.begin(`${s.id} · ${t.name} · rep ${rep}`);
          const m = await measure(t, s, o.durationS, bodies);
          const reqs = Math.max(1, m.load.requests);
          rows.push({
            scenario: s.id,
            target: t.name,
            rep,
            load: m.load,
            cpuMsPerReq: m.cpuMs / reqs,
            mainThreadCpuMsPerReq: m.mainMs / reqs,
            peakRssMb: m.rss,
          });
          o.progress.end(
            `${Math.round(m.load.rps)} req/s, p50 ${round(m.load.p50)} ms, p99 ${round(m.load.p99)} ms, CPU ${round(m.cpuMs / reqs)} ms/req${m.load.errors + m.load.non2xx > 0 ? `, ${m.load.errors} errors, ${m.load.non2xx} non-2xx` : ''}`,
          );
        }
      }
      results.push({
        id: s.id,
        title: s.title,
        connections: s.connections,
        ...(s.thinkMs ? { thinkMs: s.thinkMs } : {}),
        knobs: s.knobs,
        targets: summarise(
          rows.filter((r) => r.scenario === s.id),
          s,
          targets.map((t) => t.name),
        ),
      });
    }
    return { scenarios: results, rows };
  }
}
