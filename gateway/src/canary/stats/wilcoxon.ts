/**
 * Wilcoxon signed-rank test on paired differences (one sample of differences against zero).
 * Zero differences are dropped (Wilcoxon's convention, as R's `wilcox.test` does); tied |d| get
 * average ranks. The p-value is exact for n ≤ 50 — the permutation distribution of W+ given the
 * observed ranks, counted by dynamic programming over doubled ranks so that ties stay exact —
 * and otherwise the normal approximation with tie and continuity corrections.
 *
 * Kayenta compares canary and baseline with Mann-Whitney on two independent samples; here each
 * mirrored request yields a *pair* (same text, both models), so the paired test is the stronger one.
 * @module
 */

export type Alternative = 'greater' | 'less' | 'two-sided';

export interface WilcoxonResult {
  /** Non-zero differences used. */
  n: number;
  /** Sum of the ranks of the positive differences. */
  wPlus: number;
  pValue: number;
  exact: boolean;
  /** Median of all differences (zeros included): the effect, in the metric's unit. */
  median: number;
}

const EXACT_MAX_N = 50;

/**
 * @example
 * wilcoxonSignedRank([1.2, 0.4, -0.1, 2.0], 'greater').pValue;
 */
export function wilcoxonSignedRank(differences: readonly number[], alternative: Alternative = 'two-sided'): WilcoxonResult {
  const finite = differences.filter((d) => Number.isFinite(d));
  const median = medianOf(finite);
  const d = finite.filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return { n: 0, wPlus: 0, pValue: 1, exact: true, median };
  const ranks = averageRanks(d.map(Math.abs));
  let wPlus = 0;
  for (let i = 0; i < n; i++) if (d[i]! > 0) wPlus += ranks[i]!;
  const exact = n <= EXACT_MAX_N;
  const pValue = exact ? exactP(ranks, wPlus, alternative) : normalP(ranks, wPlus, alternative);
  return { n, wPlus, pValue: Math.min(1, pValue), exact, median };
}

function exactP(ranks: number[], wPlus: number, alternative: Alternative): number {
  // Doubled ranks are integers even with ties (average ranks are multiples of 0.5).
  const r2 = ranks.map((r) => Math.round(r * 2));
  const total = r2.reduce((a, b) => a + b, 0);
  // counts[s] = number of sign assignments whose positive doubled-rank sum is s; scaled by 2^-n
  // as we go so the numbers stay in floating-point range for n up to 50.
  let counts = new Float64Array(total + 1);
  counts[0] = 1;
  for (const r of r2) {
    const next = new Float64Array(total + 1);
    for (let s = 0; s <= total; s++) {
      const c = counts[s]!;
      if (c === 0) continue;
      next[s] = next[s]! + c / 2;
      next[s + r] = next[s + r]! + c / 2;
    }
    counts = next;
  }
  const w = Math.round(wPlus * 2);
  let upper = 0;
  let lower = 0;
  for (let s = 0; s <= total; s++) {
    if (s >= w) upper += counts[s]!;
    if (s <= w) lower += counts[s]!;
  }
  if (alternative === 'greater') return upper;
  if (alternative === 'less') return lower;
  return Math.min(1, 2 * Math.min(upper, lower));
}

function normalP(ranks: number[], wPlus: number, alternative: Alternative): number {
  const n = ranks.length;
  const mean = (n * (n + 1)) / 4;
  // Tie correction: subtract Σ(t³ − t)/48 over groups of tied ranks.
  const groups = new Map<number, number>();
  for (const r of ranks) groups.set(r, (groups.get(r) ?? 0) + 1);
  let tie = 0;
  for (const t of groups.values()) tie += t * t * t - t;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tie / 48);
  if (sd === 0) return 1;
  const diff = wPlus - mean;
  const cc = alternative === 'two-sided' ? Math.sign(diff) * 0.5 : alternative === 'greater' ? 0.5 : -0.5;
  const z = (diff - cc) / sd;
  if (alternative === 'greater') return 1 - normalCdf(z);
  if (alternative === 'less') return normalCdf(z);
  return 2 * Math.min(normalCdf(z), 1 - normalCdf(z));
}

/** Ranks 1..n of `xs`, ties get the average of the ranks they span. */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = avg;
    i = j + 1;
  }
  return ranks;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
