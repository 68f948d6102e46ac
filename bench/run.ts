/**
 * `npm run bench`: the gateway benchmark suite (bench/gateway/), then optionally the other
 * standalone benches, and one summary. Every figure is a ratio against a baseline measured in
 * the same run, with the absolute numbers beside it.
 *
 *   npm run bench                      full suite (~6–8 min on a 2-core machine)
 *   npm run bench -- --quick           short windows (~3 min), same shape
 *   npm run bench -- --only overhead,aborts   phases: overhead shadow aborts failover scale degradation
 *   npm run bench -- --profile         gateway under node --cpu-prof; hot spots in the summary
 *   npm run bench -- --with runtime    also bench/runtime.ts (and/or chattts; --all for every one)
 *   npm run bench -- --readme          rewrite README.md between <!-- bench:start/end -->
 *   npm run bench -- --strict          exit 1 when a goal is missed
 *   npm run bench -- --results DIR     write results elsewhere (experiments)
 *   npm run bench -- --scenarios unloaded,sat-c32   a subset of: unloaded paced sat-c32 sat-c128 large
 *   npm run bench -- --targets direct,raw,gateway   a subset of: direct nginx raw gateway gateway+shadow gateway-b
 *   BENCH_GATEWAY_B=/copy/gateway/src/main.ts …      adds target gateway-b (an A/B build) beside gateway
 *   BENCH_GATEWAY_B_NODE_FLAGS='--max-semi-space-size=8'          node flags for gateway-b only
 *   BENCH_GATEWAY_MAIN=/copy/gateway/src/main.ts npm run bench …   an A/B build of the gateway
 *   BENCH_LOAD=autocannon              force the autocannon fallback
 *   npm run bench -- --report-only bench/results/gateway.json [--readme]   rebuild latest.md, the
 *                                      chart and the README section from a saved run
 *
 * Writes bench/results/gateway.json (+ a timestamped copy), bench/results/latest.md and
 * bench/results/gateway.svg. Load comes from wrk when installed (`apt-get install wrk`), else
 * autocannon. Every process it starts is stopped at the end, also on failure or Ctrl-C.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCommand, readCommandLine } from '../cli/command-line.ts';
import { evaluateGoals, goalsMet } from './gateway/goals.ts';
import { SCENARIOS } from './gateway/overhead.ts';
import type { TargetName } from './gateway/targets.ts';
import { chartSvg, goalsTable, markdownReport, type RunMeta } from './gateway/report.ts';
import { ALL_PHASES, runSuite, suiteSteps, type Phase, type SuiteOptions } from './gateway/suite.ts';
import { loadTool } from './lib/load.ts';
import { REPO_ROOT, stopAll } from './lib/proc.ts';
import { Progress } from './lib/progress.ts';

const { values } = readCommandLine(
  defineCommand({
    name: 'npm run bench --',
    summary:
      'The gateway benchmark suite: every figure against a baseline measured in the same run.\nWrites bench/results/gateway.json, latest.md and gateway.svg.',
    options: {
      quick: { type: 'boolean', default: false, help: 'short windows (~3 min), same shape' },
      only: { type: 'string', value: 'PHASES', help: 'phases: overhead,shadow,aborts,failover,scale,degradation' },
      duration: { type: 'string', value: 'S', help: 'seconds per measured window (default: 5, --quick 2)' },
      warmup: { type: 'string', value: 'S', help: 'warm-up seconds per window (default: 2, --quick 1)' },
      reps: { type: 'string', value: 'N', help: 'repetitions per window (default: 2)' },
      profile: { type: 'boolean', default: false, help: 'run the gateway under --cpu-prof; hot spots in the summary' },
      with: { type: 'string', value: 'LIST', help: 'also run standalone benches: runtime,chattts' },
      all: { type: 'boolean', default: false, help: 'also run every standalone bench' },
      readme: { type: 'boolean', default: false, help: 'rewrite README.md between <!-- bench:start/end -->' },
      strict: { type: 'boolean', default: false, help: 'exit 1 when a goal is missed' },
      'keep-logs': { type: 'boolean', default: false, help: "keep the processes' log files" },
      results: { type: 'string', value: 'DIR', help: 'write results to DIR instead of bench/results' },
      scenarios: { type: 'string', value: 'LIST', help: 'a subset of: unloaded,paced,sat-c32,sat-c128,large' },
      targets: { type: 'string', value: 'LIST', help: 'a subset of: direct,nginx,raw,gateway,gateway+shadow,gateway-b' },
      'report-only': { type: 'string', value: 'FILE', help: 'rebuild latest.md, the chart (and with --readme the README) from a saved run' },
    },
    notes: 'Environment: BENCH_GATEWAY_B, BENCH_GATEWAY_B_NODE_FLAGS, BENCH_GATEWAY_MAIN, BENCH_LOAD=autocannon (see the header of bench/run.ts).',
  }),
);

const OTHER_BENCHES: Record<string, string> = { runtime: 'bench/runtime.ts', chattts: 'bench/chattts/run.ts' };
const RESULTS = values.results ?? join(REPO_ROOT, 'bench', 'results');

function phases(): Phase[] {
  if (!values.only) return ALL_PHASES;
  const want = values.only.split(',').map((s) => s.trim()) as Phase[];
  for (const p of want) if (!ALL_PHASES.includes(p)) throw new Error(`unknown phase ${p}; phases: ${ALL_PHASES.join(', ')}`);
  return want;
}

function suiteOptions(dir: string): Omit<SuiteOptions, 'progress'> {
  const q = values.quick;
  return {
    dir,
    phases: phases(),
    scenarios: values.scenarios ? SCENARIOS.filter((s) => values.scenarios!.split(',').includes(s.id)) : SCENARIOS,
    ...(values.targets ? { targets: values.targets.split(',') as TargetName[] } : {}),
    durationS: Number(values.duration ?? (q ? 2 : 5)),
    warmupS: Number(values.warmup ?? (q ? 1 : 2)),
    reps: Number(values.reps ?? 2),
    shadow: { pairs: q ? 2 : 6, seconds: q ? 2 : 3 },
    abortClients: 200,
    abortWrkRuns: q ? 1 : 3,
    failover: { rate: 640, durationMs: q ? 6_000 : 9_000, killAtMs: q ? 3_000 : 4_000 },
    scale: { sizes: [10, 100, 1000], budgetMs: q ? 300 : 800, sweeps: q ? 2 : 4 },
    degradation: { nodes: 2, slots: 4, queue: 8, multiples: q ? [0.5, 1, 2, 3] : [0.5, 1, 1.5, 2, 3], levelMs: q ? 3_000 : 6_000 },
    profile: values.profile,
  };
}

function runOther(name: string, script: string): Promise<number> {
  return new Promise((resolve) => {
    process.stderr.write(`\n── ${name}: npx tsx ${script}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

function updateReadme(section: string): void {
  const file = join(REPO_ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const body = `${start}\n${section}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  writeFileSync(file, i >= 0 && j > i ? text.slice(0, i) + body + text.slice(j + end.length) : `${text.trimEnd()}\n\n${body}\n`);
}

function readmeSection(meta: RunMeta, goals: ReturnType<typeof evaluateGoals>): string {
  const tally = goalsMet(goals);
  return [
    `Gateway benchmark (\`npm run bench\`, ${meta.startedAt}, ${meta.machine}, load average ${meta.loadAvgStart} from other work on the same machine): every figure against a baseline measured in the same run — \`direct\` to the upstream and a raw node:http + undici \`Pool.stream()\` proxy. ${tally.met} goals met, ${tally.missed} missed${tally.notRun ? `, ${tally.notRun} not judged` : ''}. Full tables: [bench/results/latest.md](bench/results/latest.md); where the CPU goes: [bench/results/profile.md](bench/results/profile.md).`,
    '',
    goalsTable(goals),
    '',
    '![gateway benchmark](bench/results/gateway.svg)',
    '',
    'Run it: `npm run bench` (~8 min on 2 cores; `-- --quick` ~4 min; `-- --only overhead,shadow,aborts,failover,scale,degradation`; `-- --profile` adds the CPU attribution; `-- --with runtime` or `--all` also runs the standalone benches). Load comes from `wrk` when installed (`apt-get install wrk`), else autocannon.',
  ].join('\n');
}

/** Rebuilds latest.md, the chart and (with --readme) the README section from a saved run. */
function reportOnly(file: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { meta: RunMeta; results: Parameters<typeof evaluateGoals>[0]; runs: unknown[] };
  const goals = evaluateGoals(saved.results);
  const md = markdownReport(saved.meta, saved.results, goals);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.md'), md);
  writeFileSync(join(RESULTS, 'gateway.svg'), chartSvg(saved.results));
  writeFileSync(file, JSON.stringify({ ...saved, goals }, null, 2));
  if (values.readme) updateReadme(readmeSection(saved.meta, goals));
  process.stdout.write(md);
  return 0;
}

async function main(): Promise<number> {
  if (values['report-only']) return reportOnly(values['report-only']);
  const started = new Date();
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'voxgate-bench-'));
  mkdirSync(RESULTS, { recursive: true });
  const opts = suiteOptions(dir);
  const progress = new Progress(suiteSteps(opts));
  const loadStart = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  process.stderr.write(`voxgate bench: phases ${opts.phases.join(', ')}; load from ${loadTool()}; logs in ${dir}\n`);
  // The gateway is measured as production runs it: compiled (dist/), not through tsx.
  process.stderr.write('voxgate bench: npm run build …\n');
  execFileSync(process.execPath, ['--import', 'tsx', 'tools/build.ts'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  let exit = 0;
  try {
    const out = await runSuite({ ...opts, progress });
    const goals = evaluateGoals(out.results);
    const meta: RunMeta = {
      startedAt: started.toISOString().replace(/\.\d+Z$/, 'Z'),
      wallS: (performance.now() - t0) / 1000,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      loadAvgStart: loadStart,
      loadAvgEnd: loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
      node: process.version,
      tool: loadTool() === 'wrk' ? 'wrk -t1' : 'autocannon (wrk not installed; coarser latency, more client CPU)',
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      reps: opts.reps,
      notes: out.notes,
    };
    const md = markdownReport(meta, out.results, goals, out.hotSpots);
    const json = { meta, goals, results: out.results, runs: out.rows };
    const stamp = meta.startedAt.replace(/[:]/g, '-');
    const tally = goalsMet(goals);
    // A profiled run is slower and its RSS includes the profiler's sample tree: it goes to
    // profile.md and never replaces the summary of a clean run.
    const base = values.profile ? 'gateway-profile' : 'gateway';
    writeFileSync(join(RESULTS, `${base}.json`), JSON.stringify(json, null, 2));
    writeFileSync(join(RESULTS, `${base}-${stamp}.json`), JSON.stringify(json, null, 2));
    const note =
      "> **Profiled run** (`npm run bench -- --profile`): the raw proxy and the gateways ran under `node --cpu-prof`, which slows them a little and adds the profiler's sample tree to their RSS. Read it for *where the CPU goes* (last sections); the clean figures are in [latest.md](latest.md).\n\n";
    writeFileSync(join(RESULTS, values.profile ? 'profile.md' : 'latest.md'), values.profile ? md.replace(/\n\n/, `\n\n${note}`) : md);
    if (!values.profile) writeFileSync(join(RESULTS, 'gateway.svg'), chartSvg(out.results));
    if (values.readme && !values.profile) updateReadme(readmeSection(meta, goals));
    process.stdout.write(`\n${md}\n`);
    process.stdout.write(
      `goals: ${tally.met} met, ${tally.missed} missed, ${tally.notRun} not run. Wrote ${RESULTS}/${values.profile ? 'gateway-profile.json, profile.md' : `gateway.json, latest.md, gateway.svg${values.readme ? ', README.md' : ''}`}.\n`,
    );
    if (values.strict && tally.missed > 0) exit = 1;
  } catch (err) {
    process.stderr.write(`\nbench failed: ${(err as Error)?.stack ?? String(err)}\nlogs kept in ${dir}\n`);
    exit = 2;
  } finally {
    await stopAll();
  }

  const others = values.all ? Object.keys(OTHER_BENCHES) : (values.with ?? '').split(',').filter(Boolean);
  for (const name of others) {
    const script = OTHER_BENCHES[name];
    if (!script || !existsSync(join(REPO_ROOT, script))) {
      process.stderr.write(`(skipping ${name}: ${script ?? 'unknown bench'} not present)\n`);
      continue;
    }
    const code = await runOther(name, script);
    if (code !== 0) {
      process.stderr.write(`${name} exited ${code}\n`);
      exit = exit || 1;
    }
  }
  if (others.length === 0) process.stderr.write(`(other benches: ${Object.keys(OTHER_BENCHES).join(', ')}; add them with --with NAME or --all)\n`);
  if (exit !== 2 && !values['keep-logs']) rmSync(dir, { recursive: true, force: true });
  return exit;
}

process.exitCode = await main();
