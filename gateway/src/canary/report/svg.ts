/**
 * Inline SVG charts for the canary page, rendered on the server: no chart library, no build
 * step, no script, and the page works with JavaScript off. Every label passes through `esc`.
 * @module
 */
import type { Summary } from '../stats/summary.ts';
import type { VerdictPoint } from '../store/canary-store.ts';

export const COLORS = { baseline: '#4c78a8', canary: '#f58518', promote: '#2ca02c', hold: '#bcbd22', rollback: '#d62728', grid: '#ddd', text: '#333' };

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(1) : x.toFixed(2));

/**
 * Two histograms (baseline and canary) side by side on shared bin edges; `baseline` null draws the
 * canary alone (a per-pair metric). `bound` marks a threshold on the x axis.
 */
export function histogramChart(title: string, edges: number[], baseline: number[] | null, canary: number[], unit: string, bound?: number): string {
  const W = 420;
  const H = 180;
  const pad = { l: 36, r: 10, t: 24, b: 30 };
  const bins = Math.max(1, canary.length);
  const max = Math.max(1, ...(baseline ?? []), ...canary);
  const bw = (W - pad.l - pad.r) / bins;
  const lo = edges[0] ?? 0;
  const hi = edges[edges.length - 1] ?? 1;
  const bx = bound !== undefined && hi > lo ? pad.l + ((bound - lo) / (hi - lo)) * (W - pad.l - pad.r) : undefined;
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const width = baseline ? bw / 2 - 1 : bw - 1;
  const bars = (counts: number[], color: string, off: number) =>
    counts
      .map(
        (c, i) =>
          `<rect x="${(pad.l + i * bw + off).toFixed(1)}" y="${y(c).toFixed(1)}" width="${width.toFixed(1)}" height="${(H - pad.b - y(c)).toFixed(1)}" fill="${color}"><title>${esc(`${num(edges[i] ?? 0)}–${num(edges[i + 1] ?? 0)} ${unit}: ${c}`)}</title></rect>`,
      )
      .join('');
  const ticks = [0, Math.floor(bins / 2), bins]
    .map((i) => `<text x="${(pad.l + i * bw).toFixed(1)}" y="${H - 12}" font-size="10" text-anchor="middle">${esc(num(edges[i] ?? 0))}</text>`)
    .join('');
  return `<svg class="chart" role="img" aria-label="${esc(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">
<text x="${pad.l}" y="14" font-size="12" font-weight="bold">${esc(title)}</text>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="${COLORS.grid}"/>
${baseline ? bars(baseline, COLORS.baseline, 0) + bars(canary, COLORS.canary, bw / 2) : bars(canary, COLORS.canary, 0)}${ticks}
${bx !== undefined ? `<line x1="${bx.toFixed(1)}" y1="${pad.t}" x2="${bx.toFixed(1)}" y2="${H - pad.b}" stroke="${COLORS.rollback}" stroke-dasharray="4 3"><title>threshold ${esc(num(bound!))}</title></line>` : ''}
<text x="${W - pad.r}" y="${H - 1}" font-size="10" text-anchor="end">${esc(unit)}</text>
<text x="4" y="${pad.t + 8}" font-size="10">${max}</text>
${baseline ? legend(W - 150, 8) : ''}
</svg>`;
}

function legend(x: number, y: number): string {
  return `<rect x="${x}" y="${y}" width="10" height="10" fill="${COLORS.baseline}"/><text x="${x + 14}" y="${y + 9}" font-size="10">baseline</text><rect x="${x + 70}" y="${y}" width="10" height="10" fill="${COLORS.canary}"/><text x="${x + 84}" y="${y + 9}" font-size="10">canary</text>`;
}

/** Box plots (p05, p25, p50, p75, p95) of one metric, baseline above canary. */
export function boxChart(title: string, baseline: Summary, canary: Summary, unit: string, bound?: number): string {
  const W = 420;
  const H = 96;
  const pad = { l: 64, r: 14 };
  const vals = [baseline.p05, baseline.p95, canary.p05, canary.p95, bound].filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  // The margin never takes the axis below zero for a metric that cannot be negative (latency,
  // duration, fractions): the axis labels would show a minimum no pair had.
  const floor = vals.length && Math.min(...vals) >= 0 ? 0 : -Infinity;
  lo = Math.max(floor, lo);
  const span = hi - lo;
  lo = Math.max(floor, lo - span * 0.05);
  hi += span * 0.05;
  const x = (v: number) => pad.l + ((v - lo) / (hi - lo)) * (W - pad.l - pad.r);
  const box = (s: Summary, yy: number, color: string, label: string) => {
    if (s.p50 === null) return `<text x="${pad.l}" y="${yy + 10}" font-size="10">${esc(label)}: no data</text>`;
    return `<text x="4" y="${yy + 11}" font-size="10">${esc(label)}</text>
<line x1="${x(s.p05!).toFixed(1)}" y1="${yy + 7}" x2="${x(s.p95!).toFixed(1)}" y2="${yy + 7}" stroke="${color}"/>
<rect x="${x(s.p25!).toFixed(1)}" y="${yy}" width="${Math.max(1, x(s.p75!) - x(s.p25!)).toFixed(1)}" height="14" fill="${color}" fill-opacity="0.5" stroke="${color}"><title>${esc(`${label}: p50 ${num(s.p50)} ${unit} (p25 ${num(s.p25!)}, p75 ${num(s.p75!)}, n=${s.n})`)}</title></rect>
<line x1="${x(s.p50).toFixed(1)}" y1="${yy}" x2="${x(s.p50).toFixed(1)}" y2="${yy + 14}" stroke="#000" stroke-width="2"/>`;
  };
  const boundLine =
    bound !== undefined && Number.isFinite(bound)
      ? `<line x1="${x(bound).toFixed(1)}" y1="20" x2="${x(bound).toFixed(1)}" y2="${H - 18}" stroke="${COLORS.rollback}" stroke-dasharray="4 3"/><text x="${x(bound).toFixed(1)}" y="${H - 6}" font-size="9" text-anchor="middle" fill="${COLORS.rollback}">threshold</text>`
      : '';
  return `<svg class="chart" role="img" aria-label="${esc(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">
<text x="4" y="13" font-size="12" font-weight="bold">${esc(title)} <tspan font-weight="normal" font-size="10">(${esc(unit)})</tspan></text>
${box(baseline, 24, COLORS.baseline, 'baseline')}${box(canary, 48, COLORS.canary, 'canary')}${boundLine}
<text x="${pad.l}" y="${H - 6}" font-size="9">${esc(num(lo))}</text><text x="${W - pad.r}" y="${H - 6}" font-size="9" text-anchor="end">${esc(num(hi))}</text>
</svg>`;
}

/** The verdict over time: a coloured band per verdict point and the number of pairs behind it. */
export function verdictTimeline(points: VerdictPoint[]): string {
  const W = 860;
  const H = 120;
  const pad = { l: 40, r: 10, t: 22, b: 24 };
  if (points.length === 0)
    return `<svg class="chart" role="img" aria-label="verdict over time" width="${W}" height="40" xmlns="http://www.w3.org/2000/svg"><text x="4" y="24" font-size="12">verdict over time: no verdict yet</text></svg>`;
  const t0 = points[0]!.at;
  const t1 = Math.max(t0 + 1, points[points.length - 1]!.at);
  const maxN = Math.max(1, ...points.map((p) => p.compared));
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (n: number) => H - pad.b - (n / maxN) * (H - pad.t - pad.b);
  const bands = points
    .map((p, i) => {
      const x0 = x(p.at);
      const x1 = i + 1 < points.length ? x(points[i + 1]!.at) : W - pad.r;
      const color = COLORS[p.verdict as 'promote' | 'hold' | 'rollback'] ?? COLORS.grid;
      return `<rect class="verdict-${esc(p.verdict)}" x="${x0.toFixed(1)}" y="${pad.t}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${H - pad.t - pad.b}" fill="${color}" fill-opacity="0.35"><title>${esc(`${new Date(p.at).toISOString()}: ${p.verdict} (${p.compared} pairs)`)}</title></rect>`;
    })
    .join('');
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.compared).toFixed(1)}`).join(' ');
  return `<svg class="chart" role="img" aria-label="verdict over time" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">
<text x="4" y="14" font-size="12" font-weight="bold">verdict over time <tspan font-weight="normal" font-size="10">(band colour = verdict; line = pairs judged)</tspan></text>
${bands}<path d="${line}" fill="none" stroke="#000" stroke-width="1.5"/>
<text x="4" y="${pad.t + 8}" font-size="10">${maxN}</text>
<text x="${pad.l}" y="${H - 6}" font-size="10">${esc(new Date(t0).toISOString().slice(11, 19))}</text>
<text x="${W - pad.r}" y="${H - 6}" font-size="10" text-anchor="end">${esc(new Date(t1).toISOString().slice(11, 19))} UTC</text>
</svg>`;
}
