/**
 * One chart per scenario: requests per second by outcome class over time (stacked bars, by
 * completion second), with each fault's start and end marked. Plain SVG, so Markdown can embed
 * it and no plotting library is needed.
 * @module
 */
import { OUTCOME_CLASSES, type OutcomeClass } from '../load/load-spec.ts';
import type { ScenarioResult } from '../scenarios/scenario.ts';

const COLORS: Record<OutcomeClass, string> = {
  ok: '#2e9d48',
  bad_audio: '#d1007a',
  '4xx': '#8a8f98',
  '429': '#f08c00',
  '503': '#f5c400',
  '504': '#a61e1e',
  '5xx': '#e03131',
  net_error: '#222222',
  client_timeout: '#7048e8',
  client_saturated: '#cfd4da',
  conn_closed: '#5c7cfa',
};

const W = 900;
const H = 320;
const PAD = { left: 52, right: 16, top: 34, bottom: 64 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Counts per completion second and class. */
export function timeline(result: ScenarioResult): { seconds: number; buckets: Record<OutcomeClass, number>[] } {
  const seconds = Math.max(1, Math.ceil(Math.max(0, ...result.records.map((r) => (r.t + r.ms) / 1000), ...result.faults.map((f) => f.endS ?? f.startS))));
  const buckets = Array.from({ length: seconds }, () => Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as Record<OutcomeClass, number>);
  for (const r of result.records) {
    const b = buckets[Math.min(seconds - 1, Math.floor((r.t + r.ms) / 1000))]!;
    b[r.outcome]++;
  }
  return { seconds, buckets };
}

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= v) return m * mag;
  return 10 * mag;
}

export function chartSvg(result: ScenarioResult): string {
  const { seconds, buckets } = timeline(result);
  const present = OUTCOME_CLASSES.filter((c) => buckets.some((b) => b[c] > 0));
  const yMax = niceMax(Math.max(1, ...buckets.map((b) => OUTCOME_CLASSES.reduce((a, c) => a + b[c], 0))));
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const x = (s: number) => PAD.left + (s / seconds) * pw;
  const y = (v: number) => PAD.top + ph - (v / yMax) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${PAD.left}" y="18" font-size="13" font-weight="bold">${esc(`${result.id}. ${result.title}`)} — requests/s by outcome</text>`);
  // Fault bands under the bars.
  result.faults.forEach((f, i) => {
    const x0 = x(f.startS);
    const x1 = f.endS !== undefined ? x(f.endS) : x0;
    if (f.endS !== undefined)
      out.push(`<rect x="${x0.toFixed(1)}" y="${PAD.top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${ph}" fill="#ff6b6b" fill-opacity="0.12"/>`);
    out.push(`<line x1="${x0.toFixed(1)}" x2="${x0.toFixed(1)}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="#c92a2a" stroke-dasharray="4 3"/>`);
    if (f.endS !== undefined)
      out.push(`<line x1="${x1.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="#2b8a3e" stroke-dasharray="4 3"/>`);
    out.push(
      `<text x="${(x0 + 3).toFixed(1)}" y="${PAD.top + 12 + (i % 3) * 12}" fill="#c92a2a">${esc(f.label)}${f.endS !== undefined ? ' (start→end)' : ''}</text>`,
    );
  });
  const bw = Math.max(1, pw / seconds - 1);
  buckets.forEach((b, s) => {
    let acc = 0;
    for (const c of OUTCOME_CLASSES) {
      if (b[c] === 0) continue;
      out.push(
        `<rect x="${(x(s) + 0.5).toFixed(1)}" y="${y(acc + b[c]).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(acc) - y(acc + b[c])).toFixed(1)}" fill="${COLORS[c]}"><title>${s}s ${c}: ${b[c]}</title></rect>`,
      );
      acc += b[c];
    }
  });
  // Axes and ticks.
  out.push(`<line x1="${PAD.left}" x2="${PAD.left + pw}" y1="${PAD.top + ph}" y2="${PAD.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + ph}" stroke="#333"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    out.push(`<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v)}</text>`);
    if (i > 0) out.push(`<line x1="${PAD.left}" x2="${PAD.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
  }
  const step = seconds <= 20 ? 2 : seconds <= 60 ? 5 : seconds <= 300 ? 30 : 120;
  for (let s = 0; s <= seconds; s += step) out.push(`<text x="${x(s).toFixed(1)}" y="${PAD.top + ph + 14}" text-anchor="middle">${s}s</text>`);
  out.push(`<text x="14" y="${PAD.top + ph / 2}" transform="rotate(-90 14 ${PAD.top + ph / 2})" text-anchor="middle">req/s</text>`);
  // Legend.
  present.forEach((c, i) => {
    const lx = PAD.left + i * 96;
    const ly = H - 22;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[c]}"/><text x="${lx + 14}" y="${ly}">${c}</text>`);
  });
  out.push(`<text x="${W - PAD.right}" y="${H - 8}" text-anchor="end" fill="#666">dashed red: fault start · dashed green: fault end</text>`);
  out.push('</svg>');
  return out.join('\n');
}
