/**
 * Writes the proving ground's report under `reports/chaos/` (run output, outside test/ and
 * ignored by git but for the runs the README cites): `<run>/report.md` (summary table, then one
 * section per scenario with its checks, figures and chart), `report.json` (everything, records
 * excluded beyond a sample) and one SVG chart per scenario. `latest.md` and `latest.json` always
 * point at the newest run.
 * @module
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ScenarioResult } from '../scenarios/scenario.ts';
import { chartSvg } from './chart-svg.ts';
import { summarize, type ScenarioSummary } from './summarize.ts';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../../../reports/chaos');

function fmt(v: number | null, unit = ''): string {
  return v === null ? '–' : `${Math.round(v * 10) / 10}${unit}`;
}

function outcomesText(s: ScenarioSummary): string {
  return Object.entries(s.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export function summaryTable(summaries: ScenarioSummary[]): string {
  const rows = [
    '| # | scenario | sent | outcomes by class | 5xx | p50 / p99 ms (ok) | recovery ms | RSS growth MB (gateway / node) | verdict |',
    '| --- | --- | ---: | --- | ---: | --- | ---: | --- | --- |',
  ];
  for (const s of summaries) {
    rows.push(
      `| ${s.id} | ${s.title} | ${s.sent} | ${outcomesText(s)} | ${s.fiveXx} | ${fmt(s.p50Ms)} / ${fmt(s.p99Ms)} | ${fmt(s.recoveryMs)} | ${fmt(s.gatewayGrowthMb)} / ${fmt(s.nodeGrowthMb)} | ${s.pass ? 'pass' : '**FAIL**'} |`,
    );
  }
  return rows.join('\n');
}

export interface RunInfo {
  startedAt: string;
  mode: string;
  machine: string;
}

export function writeReport(results: ScenarioResult[], info: RunInfo): { dir: string; markdown: string; summaries: ScenarioSummary[] } {
  const dir = path.join(RESULTS_DIR, info.startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const summaries = results.map(summarize);
  const md: string[] = [];
  md.push(`# voxgate reliability proving ground — ${info.startedAt}`, '');
  md.push(`Mode: ${info.mode}. Machine: ${info.machine}. Nodes run the **simulator engine** (test-only), so the figures measure the gateway, not a model.`, '');
  md.push(summaryTable(summaries), '');
  md.push(
    '5xx counts server errors other than 503 (503 + Retry-After is the allowed way to shed). Latencies are of successful (`ok`) requests, measured by a separate load-generator process, open loop.',
    '',
  );
  for (const r of results) {
    const s = summaries.find((x) => x.id === r.id)!;
    const svgName = `scenario-${r.id}.svg`;
    const svgFile = path.join(dir, svgName);
    writeFileSync(svgFile, chartSvg(r));
    md.push(`## ${r.id}. ${r.title}`, '', `Claim: ${r.claim}`, '');
    md.push(
      `Sent ${s.sent}; ${outcomesText(s)}; goodput ${s.goodputRps} req/s${r.capacityRps ? ` (capacity ${r.capacityRps} req/s)` : ''}.${r.clientLoopDelayMs ? ` Load generator's own event-loop delay p99 ${r.clientLoopDelayMs.p99} ms, max ${r.clientLoopDelayMs.max} ms.` : ''}`,
      '',
    );
    md.push('| check | result | detail |', '| --- | --- | --- |');
    for (const c of r.checks) md.push(`| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${c.detail.replace(/\|/g, '\\|')} |`);
    md.push('');
    if (Object.keys(r.figures).length > 0) {
      md.push('| figure | value |', '| --- | --- |');
      for (const [k, v] of Object.entries(r.figures)) md.push(`| ${k} | ${v} |`);
      md.push('');
    }
    md.push(`![${r.title}](${svgName})`, '');
  }
  const markdown = md.join('\n');
  writeFileSync(path.join(dir, 'report.md'), markdown);
  const json = {
    ...info,
    summaries,
    scenarios: results.map((r) => ({
      ...r,
      records: undefined,
      record_count: r.records.length,
      not_ok: r.records.filter((x) => x.outcome !== 'ok').slice(0, 2_000),
    })),
  };
  writeFileSync(path.join(dir, 'report.json'), JSON.stringify(json, null, 2));
  // latest.md embeds charts from the run directory.
  const run = path.basename(dir);
  writeFileSync(
    path.join(RESULTS_DIR, 'latest.md'),
    markdown.replace(/\]\((scenario-[^)]+)\)/g, (_m, file: string) => `](${run}/${file})`),
  );
  copyFileSync(path.join(dir, 'report.json'), path.join(RESULTS_DIR, 'latest.json'));
  return { dir, markdown, summaries };
}

/**
 * The top-level README keeps the latest summary table between `<!-- chaos:start -->` and
 * `<!-- chaos:end -->`; nothing is written when the markers are absent.
 */
export function updateReadme(summaries: ScenarioSummary[], startedAt: string, readme = path.resolve(RESULTS_DIR, '../../README.md')): boolean {
  let text: string;
  try {
    text = readFileSync(readme, 'utf8');
  } catch {
    return false;
  }
  const re = /(<!-- chaos:start -->)[\s\S]*?(<!-- chaos:end -->)/;
  if (!re.test(text)) return false;
  const block = `Reliability proving ground (\`npm run chaos\`, ${startedAt}; simulator nodes on one 2-core machine; details, charts and method in [reports/chaos/latest.md](reports/chaos/latest.md) and [test/chaos/README.md](test/chaos/README.md)):\n\n${summaryTable(summaries)}\n`;
  // A replacer function: a replacement string would read `$'` or `$&` in the block as patterns.
  writeFileSync(
    readme,
    text.replace(re, (_m, start: string, end: string) => `${start}\n${block}${end}`),
  );
  return true;
}
