/**
 * `npm run chaos` — the reliability proving ground's full runner. Starts real clusters on
 * 127.0.0.1 (simulator nodes in several regions, one or two gateways), drives load from a
 * separate process, injects faults from outside the production code, and writes the report
 * (Markdown + JSON + one chart per scenario) under reports/chaos/.
 *
 *   npm run chaos                      every scenario, soak 3 min
 *   npm run chaos -- --soak 20m        the 20-minute soak
 *   npm run chaos -- --only 1,2,6      some scenarios (S = security)
 *   npm run chaos -- --short           the short versions (those `npm test` runs, and more)
 *
 * Exits 1 when any check fails. Every process it starts is stopped when a scenario ends, and
 * the harness's registry kills leftovers if the runner itself dies.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { defineCommand, readCommandLine } from '../../cli/command-line.ts';
import { startChaosCluster } from './cluster/chaos-cluster.ts';
import { summaryTable, updateReadme, writeReport } from './report/write-report.ts';
import { standardTopology, type Profile } from './scenarios/common.ts';
import { steadyLoad } from './scenarios/s1-steady.ts';
import { overload } from './scenarios/s2-overload.ts';
import { failover } from './scenarios/s3-failover.ts';
import { hungAndSlow } from './scenarios/s4-hung-slow.ts';
import { leakingNode } from './scenarios/s5-leak.ts';
import { brokenAnswers } from './scenarios/s6-broken-answers.ts';
import { hotSwap } from './scenarios/s7-hot-swap.ts';
import { badInput } from './scenarios/s8-bad-input.ts';
import { soak } from './scenarios/s9-soak.ts';
import { clockSkew } from './scenarios/s10-clock-skew.ts';
import { midStreamKill } from './scenarios/s11-mid-stream-kill.ts';
import { security } from './scenarios/security.ts';
import { check, type ScenarioResult } from './scenarios/scenario.ts';

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--soak: expected a duration like 20m, 90s; got ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'm') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  if (ms < 30_000 || ms > 2 * 3_600_000) throw new Error('--soak must be between 30s and 2h');
  return ms;
}

const { values } = readCommandLine(
  defineCommand({
    name: 'npm run chaos --',
    summary:
      'The reliability proving ground: real clusters on 127.0.0.1, load and faults from outside.\nReport in reports/chaos/. Exits 1 when any check fails.',
    options: {
      only: { type: 'string', value: 'IDS', help: 'some scenarios, e.g. 1,2,6 (S = security)' },
      soak: { type: 'string', value: 'DURATION', default: '3m', help: 'soak length, 30s to 2h (e.g. 20m)' },
      short: { type: 'boolean', default: false, help: 'the short versions (those npm test runs, and more)' },
    },
  }),
);
const profile: Profile = { short: values.short ?? false, soakMs: parseDuration(values.soak ?? '3m') };
const wanted = values.only ? new Set(values.only.split(',').map((s) => s.trim().toUpperCase())) : undefined;
const want = (id: string) => !wanted || wanted.has(id);

const plan: { id: string; run: () => Promise<ScenarioResult | ScenarioResult[]> }[] = [
  { id: 'S', run: security },
  {
    id: '1+2',
    // Steady then overload on one cluster: the overload starts from a warm, known state.
    run: async () => {
      const cluster = await startChaosCluster(standardTopology());
      try {
        const out: ScenarioResult[] = [];
        if (want('1')) out.push(await steadyLoad(profile, cluster));
        if (want('2')) out.push(await overload(profile, cluster));
        return out;
      } finally {
        await cluster.close();
      }
    },
  },
  { id: '3', run: () => failover(profile) },
  { id: '4', run: () => hungAndSlow(profile) },
  { id: '5', run: () => leakingNode(profile) },
  { id: '6', run: () => brokenAnswers(profile) },
  { id: '7', run: () => hotSwap(profile) },
  { id: '8', run: () => badInput(profile) },
  { id: '10', run: () => clockSkew(profile) },
  { id: '11', run: () => midStreamKill(profile) },
  { id: '9', run: () => soak(profile) },
];

const startedAt = new Date().toISOString();
const results: ScenarioResult[] = [];
for (const step of plan) {
  const ids = step.id.split('+');
  if (!ids.some(want)) continue;
  const t0 = Date.now();
  process.stdout.write(`scenario ${step.id} … `);
  try {
    const out = await step.run();
    const list = Array.isArray(out) ? out : [out];
    results.push(...list);
    process.stdout.write(
      `${list.map((r) => `${r.id}: ${r.checks.every((c) => c.pass) ? 'pass' : 'FAIL'}`).join(', ')} (${Math.round((Date.now() - t0) / 1000)} s)\n`,
    );
    for (const r of list) for (const c of r.checks.filter((x) => !x.pass)) process.stdout.write(`  ✗ ${r.id} ${c.name}: ${c.detail}\n`);
  } catch (error) {
    process.stdout.write(`crashed: ${String((error as Error)?.message ?? error)}\n`);
    results.push({
      id: ids[0]!,
      title: `scenario ${step.id}`,
      claim: 'ran to completion',
      epochMs: Date.now(),
      records: [],
      faults: [],
      samples: [],
      figures: {},
      checks: [check('scenario ran', false, String((error as Error)?.stack ?? error).slice(0, 600))],
    });
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const { dir, summaries } = writeReport(results, {
  startedAt,
  mode: `${profile.short ? 'short' : 'full'}, soak ${Math.round(profile.soakMs / 60_000)} min`,
  machine: `${os.cpus().length} × ${cpu}, load average at the end ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}`,
});
process.stdout.write(`\n${summaryTable(summaries)}\n\nreport: ${path.relative(process.cwd(), dir)}/report.md\n`);

// Only a full run replaces the README's table: a run of some scenarios would drop the others' rows.
if (!wanted) updateReadme(summaries, startedAt);
process.exit(summaries.every((s) => s.pass) ? 0 : 1);
