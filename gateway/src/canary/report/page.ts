/**
 * `GET /canary`: the report as a page — one section per canary with its verdict and reasons,
 * counts, the latency distributions, metric comparisons (box plots with the threshold), the
 * spectral-distance distribution and the verdict over time. Rendered on the server from the
 * same `Report` object the JSON endpoint returns.
 * @module
 */
import { verdictPairs, windowPairs } from './pair-counts.ts';
import type { CanaryReport, Report } from './report-types.ts';
import { COLORS, boxChart, esc, histogramChart, verdictTimeline } from './svg.ts';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '–' : Number(x.toPrecision(d)).toString());

function section(r: CanaryReport): string {
  const t = r.thresholds;
  const checks = r.checks
    .map(
      (c) =>
        `<tr class="check-${esc(c.status)}"><td>${esc(c.metric)}</td><td><b>${esc(c.status)}</b></td><td>${c.n}</td><td>${c.p === null ? '–' : esc(c.p.toPrecision(2))}</td><td>${esc(c.detail)}</td></tr>`,
    )
    .join('');
  const counts: [string, unknown][] = [
    ['configured sample rate', r.sample_rate],
    ['measured share', r.measured_share === null ? '–' : `${(r.measured_share * 100).toFixed(2)}% (${r.sampled}/${r.eligible})`],
    ['mirrored', r.mirrored],
    ['compared (audio judged, since start)', r.compared],
    ['pairs in the window, by the model that served the client', windowPairs(r)],
    ['pairs the verdict counts', verdictPairs(r)],
    ['errors and latency only (judge budget)', r.unjudged],
    [
      'dropped',
      `${r.dropped.total} (cap ${r.dropped.cap}, no headroom ${r.dropped.no_headroom}, baseline streamed ${r.dropped.baseline_streamed}, judge backlog ${r.dropped.judge_backlog})`,
    ],
    [
      'errors',
      `${r.errors.count} (timeouts ${r.errors.timeouts}; ${
        Object.entries(r.errors.by_code)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none'
      })`,
    ],
    [
      'latency p50/p95/p99 (ms)',
      `canary ${f(r.latency_ms.canary.p50)} / ${f(r.latency_ms.canary.p95)} / ${f(r.latency_ms.canary.p99)} · baseline ${f(r.latency_ms.baseline.p50)} / ${f(r.latency_ms.baseline.p95)} / ${f(r.latency_ms.baseline.p99)}`,
    ],
    ['WER', r.audio.wer.available ? `${r.audio.wer.pairs} pairs with ASR` : `unavailable: ${r.audio.wer.reason ?? 'no ASR'}`],
    ['judge time per pair (ms, p50)', f(r.judge_ms.p50)],
  ];
  const a = r.audio;
  return `<section class="canary" id="canary-${esc(r.canary)}" data-canary="${esc(r.canary)}" data-verdict="${esc(r.verdict)}">
<h2>${esc(r.canary)} <small>vs ${esc(r.baseline)} (configured baseline)</small> <span class="verdict" style="background:${COLORS[r.verdict]}">${esc(r.verdict)}</span></h2>
<ul class="reasons">${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>
<table class="counts">${counts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<div class="charts">
${histogramChart('latency distribution', r.latency_ms.histogram.edges, r.latency_ms.histogram.baseline, r.latency_ms.histogram.canary, 'ms')}
${histogramChart('spectral distance per pair', a.spectral_distance.histogram.edges, null, a.spectral_distance.histogram.counts, `relative log-mel DTW (dashed: max ${t.max_distance})`, t.max_distance)}
${boxChart('latency', r.latency_ms.baseline, r.latency_ms.canary, 'ms')}
${boxChart('real-time factor', r.latency_ms.rtf.baseline, r.latency_ms.rtf.canary, 'latency / audio')}
${boxChart('speech fraction', a.speech_fraction.baseline, a.speech_fraction.canary, 'Silero VAD')}
${boxChart('duration', a.duration_s.baseline, a.duration_s.canary, 's')}
${boxChart('seconds per character', a.seconds_per_char.baseline, a.seconds_per_char.canary, 's/char')}
${boxChart('loudness', a.rms_dbfs.baseline, a.rms_dbfs.canary, 'RMS dBFS')}
${boxChart('clipping', a.clipping.baseline, a.clipping.canary, 'share of samples', t.max_clipping)}
${a.wer.available || a.wer.pairs > 0 ? boxChart('word error rate', a.wer.baseline, a.wer.canary, 'pocketsphinx') : ''}
</div>
${verdictTimeline(r.history)}
<table class="checks"><tr><th>check</th><th>status</th><th>n</th><th>p</th><th>detail</th></tr>${checks}</table>
</section>`;
}

/**
 * @example
 * app.get('/canary', (c) => c.html(renderPage(service.report())));
 */
export function renderPage(report: Report): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxgate canary report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:${COLORS.text}}
h2 small{font-weight:normal;color:#666}
.verdict{color:#fff;padding:2px 10px;border-radius:4px;font-size:0.8em;text-transform:uppercase}
table{border-collapse:collapse;margin:0.6em 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.charts{display:flex;flex-wrap:wrap;gap:8px}
.chart{border:1px solid #eee;background:#fff}
.check-fail td{background:#fbe3e3}.check-pass td{background:#e6f4e6}.check-inconclusive td{background:#fafae0}
section{border-top:2px solid #ccc;padding-top:0.5em;margin-top:1em}
</style></head>
<body>
<h1>Canary report</h1>
<p>Generated ${esc(report.generated_at)}. ASR: ${report.asr.available ? 'pocketsphinx available' : `unavailable (${esc(report.asr.reason ?? 'no ASR')})`}. JSON: <a href="/v1/canary/report">/v1/canary/report</a>.</p>
${report.canaries.length === 0 ? '<p class="empty">No canaries configured.</p>' : report.canaries.map(section).join('\n')}
</body></html>`;
}
