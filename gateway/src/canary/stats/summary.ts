/**
 * Distribution summaries for the report: quantiles by linear interpolation between order
 * statistics (R type 7, the default of R and NumPy) and fixed-edge histograms for the charts.
 * @module
 */

export interface Summary {
  n: number;
  mean: number | null;
  min: number | null;
  p05: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * @example
 * summarise([120, 130, 500]).p50; // 130
 */
export function summarise(values: readonly number[]): Summary {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : null;
  const r = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
  return {
    n: s.length,
    mean: r(mean),
    min: r(s[0] ?? null),
    p05: r(quantile(s, 0.05)),
    p25: r(quantile(s, 0.25)),
    p50: r(quantile(s, 0.5)),
    p75: r(quantile(s, 0.75)),
    p95: r(quantile(s, 0.95)),
    p99: r(quantile(s, 0.99)),
    max: r(s[s.length - 1] ?? null),
  };
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

/** `bins` equal-width bins over [lo, hi]; values outside are clamped into the end bins. */
export function histogram(values: readonly number[], lo: number, hi: number, bins: number): Histogram {
  const width = hi > lo ? (hi - lo) / bins : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => Math.round((lo + i * width) * 1000) / 1000);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[b] = counts[b]! + 1;
  }
  return { edges, counts };
}
