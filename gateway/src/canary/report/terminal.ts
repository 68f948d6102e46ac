/**
 * The report as terminal text (the CLI): the same `Report` object as the JSON and the page,
 * laid out as aligned tables with the verdict first.
 * @module
 */
import type { Summary } from '../stats/summary.ts';
import { verdictPairs, windowPairs } from './pair-counts.ts';
import type { CanaryReport, Paired, Report } from './report-types.ts';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '–' : Number(x.toPrecision(d)).toString());
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function row(name: string, p: Paired, unit = ''): string {
  const s = (x: Summary) => `${f(x.p50)} [${f(x.p05)}–${f(x.p95)}]`;
  return `  ${pad(name, 22)} ${pad(s(p.baseline), 26)} ${pad(s(p.canary), 26)} ${f(p.paired_diff.p50)}${unit}`;
}

function canary(r: CanaryReport, color: boolean): string {
  const paint = (s: string) => {
    if (!color) return s;
    const code = r.verdict === 'promote' ? 32 : r.verdict === 'rollback' ? 31 : 33;
    return `\u001b[1;${code}m${s}\u001b[0m`;
  };
  const lines = [
    `${r.canary} vs ${r.baseline}: ${paint(r.verdict.toUpperCase())}`,
    ...r.reasons.map((x) => `  - ${x}`),
    '',
    `  sample rate ${r.sample_rate} · measured share ${r.measured_share === null ? '–' : (r.measured_share * 100).toFixed(2) + '%'} (${r.sampled}/${r.eligible})`,
    `  mirrored ${r.mirrored} · compared ${r.compared} since start · errors and latency only ${r.unjudged} · dropped ${r.dropped.total} (cap ${r.dropped.cap}, no headroom ${r.dropped.no_headroom}, baseline streamed ${r.dropped.baseline_streamed}, judge backlog ${r.dropped.judge_backlog})`,
    `  errors ${r.errors.count} (timeouts ${r.errors.timeouts}) ${Object.entries(r.errors.by_code)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `  latency ms p50/p95/p99: canary ${f(r.latency_ms.canary.p50)}/${f(r.latency_ms.canary.p95)}/${f(r.latency_ms.canary.p99)} · baseline ${f(r.latency_ms.baseline.p50)}/${f(r.latency_ms.baseline.p95)}/${f(r.latency_ms.baseline.p99)}`,
    `  pairs in the window, by the model that served the client: ${windowPairs(r)}`,
    `  pairs the verdict counts: ${verdictPairs(r)}`,
    '',
    `  ${pad('metric (p50 [p5–p95])', 22)} ${pad('baseline', 26)} ${pad('canary', 26)} paired Δ p50`,
    row('latency ms', r.latency_ms),
    row('real-time factor', r.latency_ms.rtf),
    row('speech fraction', r.audio.speech_fraction),
    row('duration s', r.audio.duration_s),
    row('seconds per char', r.audio.seconds_per_char),
    row('RMS dBFS', r.audio.rms_dbfs),
    row('clipping', r.audio.clipping),
    r.audio.wer.pairs > 0
      ? row('WER', r.audio.wer)
      : `  ${pad('WER', 22)} ${r.audio.wer.available ? 'no pairs with ASR yet' : `unavailable: ${r.audio.wer.reason ?? 'no ASR'}`}`,
    `  ${pad('spectral distance', 22)} p50 ${f(r.audio.spectral_distance.p50)} [${f(r.audio.spectral_distance.p05)}–${f(r.audio.spectral_distance.p95)}] (max ${r.thresholds.max_distance})`,
    `  ${pad('duration ratio', 22)} p50 ${f(r.audio.duration_ratio.p50)} [${f(r.audio.duration_ratio.p05)}–${f(r.audio.duration_ratio.p95)}]`,
    '',
    '  checks:',
    ...r.checks.map((c) => `    ${pad(c.metric, 18)} ${pad(c.status, 13)} ${c.detail}`),
    `  verdict history: ${
      r.history
        .slice(-12)
        .map((h) => `${h.verdict}@${h.compared}`)
        .join(' → ') || '–'
    }`,
  ];
  return lines.join('\n');
}

/**
 * @example
 * process.stdout.write(renderTerminal(report, process.stdout.isTTY));
 */
export function renderTerminal(report: Report, color = false): string {
  const head = `voxgate canary report · ${report.generated_at} · ASR ${report.asr.available ? 'available' : `unavailable (${report.asr.reason ?? 'no ASR'})`}`;
  if (report.canaries.length === 0) return `${head}\nno canaries\n`;
  return `${head}\n\n${report.canaries.map((c) => canary(c, color)).join('\n\n')}\n`;
}
