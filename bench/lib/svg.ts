/**
 * Dependency-free SVG charts for the README: grouped horizontal bars (ratios against a baseline,
 * with a goal line) and line charts (curves over a log or linear x axis).
 * @module
 */
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const COLORS = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface BarGroup {
  label: string;
  bars: { label: string; value: number }[];
}

/** Horizontal grouped bars on [0, max]; `goal` draws a dashed vertical line. */
export function barPanel(
  x: number,
  y: number,
  w: number,
  title: string,
  groups: BarGroup[],
  opts: { max?: number; goal?: number; goalLabel?: string; unit?: string } = {},
): { svg: string; height: number } {
  const barH = 14;
  const labelW = 150;
  const plotW = w - labelW - 60;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const max = opts.max ?? Math.max(1, ...values, opts.goal ?? 0) * 1.1;
  const sx = (v: number) => x + labelW + (Math.max(0, Math.min(v, max)) / max) * plotW;
  const parts: string[] = [`<text x="${x}" y="${y + 14}" ${FONT} font-size="14" font-weight="600">${esc(title)}</text>`];
  let cy = y + 28;
  for (const g of groups) {
    parts.push(`<text x="${x}" y="${cy + barH * g.bars.length * 0.5 + 4}" ${FONT} font-size="12">${esc(g.label)}</text>`);
    g.bars.forEach((b, i) => {
      const v = Number.isFinite(b.value) ? b.value : 0;
      parts.push(`<rect x="${x + labelW}" y="${cy}" width="${Math.max(1, sx(v) - x - labelW)}" height="${barH - 2}" fill="${COLORS[i % COLORS.length]}"/>`);
      parts.push(
        `<text x="${sx(v) + 4}" y="${cy + barH - 4}" ${FONT} font-size="11">${Number.isFinite(b.value) ? b.value.toFixed(2) : '–'}${opts.unit ?? ''}</text>`,
      );
      cy += barH;
    });
    cy += 8;
  }
  if (opts.goal !== undefined) {
    parts.push(`<line x1="${sx(opts.goal)}" y1="${y + 24}" x2="${sx(opts.goal)}" y2="${cy}" stroke="#111" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${sx(opts.goal) + 3}" y="${cy + 10}" ${FONT} font-size="11">${esc(opts.goalLabel ?? `goal ${opts.goal}`)}</text>`);
  }
  // Legend from the first group's bar labels.
  const legend =
    groups[0]?.bars.map(
      (b, i) =>
        `<rect x="${x + labelW + i * 150}" y="${cy + 16}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + labelW + i * 150 + 14}" y="${cy + 25}" ${FONT} font-size="11">${esc(b.label)}</text>`,
    ) ?? [];
  parts.push(...legend);
  return { svg: parts.join('\n'), height: cy + 36 - y };
}

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

/** A line chart; `logX` for node counts. */
export function linePanel(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  series: Series[],
  opts: { logX?: boolean; logY?: boolean; xLabel?: string; yLabel?: string } = {},
): { svg: string; height: number } {
  const left = 56;
  const top = 26;
  const pw = w - left - 160;
  const ph = h - top - 34;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => Number.isFinite(v) && (!opts.logY || v > 0));
  const tx = (v: number) => (opts.logX ? Math.log10(v) : v);
  const ty = (v: number) => (opts.logY ? Math.log10(Math.max(v, 1e-9)) : v);
  const x0 = tx(Math.min(...xs));
  const x1 = tx(Math.max(...xs));
  const y0 = opts.logY ? ty(Math.min(...ys)) : 0;
  const y1 = ty(Math.max(...ys)) * (opts.logY ? 1 : 1.1);
  const sx = (v: number) => x + left + ((tx(v) - x0) / (x1 - x0 || 1)) * pw;
  const sy = (v: number) => y + top + ph - ((ty(v) - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [
    `<text x="${x}" y="${y + 14}" ${FONT} font-size="14" font-weight="600">${esc(title)}</text>`,
    `<line x1="${x + left}" y1="${y + top + ph}" x2="${x + left + pw}" y2="${y + top + ph}" stroke="#888"/>`,
    `<line x1="${x + left}" y1="${y + top}" x2="${x + left}" y2="${y + top + ph}" stroke="#888"/>`,
  ];
  for (const v of [...new Set(xs)].sort((a, b) => a - b))
    parts.push(`<text x="${sx(v)}" y="${y + top + ph + 14}" ${FONT} font-size="10" text-anchor="middle">${v}</text>`);
  const yt = opts.logY ? [Math.min(...ys), Math.max(...ys)] : [0, Math.max(...ys) / 2, Math.max(...ys)];
  for (const v of yt)
    parts.push(`<text x="${x + left - 4}" y="${sy(v) + 3}" ${FONT} font-size="10" text-anchor="end">${v >= 100 ? Math.round(v) : v.toFixed(1)}</text>`);
  if (opts.xLabel) parts.push(`<text x="${x + left + pw / 2}" y="${y + top + ph + 28}" ${FONT} font-size="11" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel)
    parts.push(
      `<text x="${x + 12}" y="${y + top + ph / 2}" ${FONT} font-size="11" text-anchor="middle" transform="rotate(-90 ${x + 12} ${y + top + ph / 2})">${esc(opts.yLabel)}</text>`,
    );
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${c}"/>`);
    parts.push(
      `<rect x="${x + left + pw + 12}" y="${y + top + i * 16}" width="10" height="10" fill="${c}"/><text x="${x + left + pw + 26}" y="${y + top + i * 16 + 9}" ${FONT} font-size="11">${esc(s.label)}</text>`,
    );
  });
  return { svg: parts.join('\n'), height: h };
}

export function svgDocument(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;
}
