/**
 * Exact binomial test: is an observed count of failures consistent with a failure rate p0?
 * Used for the canary's error and timeout rate against the configured maximum; exact because
 * the counts are small and the rates near zero, where the normal approximation is worst.
 * Two-sided p follows R's `binom.test`: the sum of the probabilities no larger than P(X = k).
 * @module
 */
import type { Alternative } from './wilcoxon.ts';

/** log C(n, k) via lgamma. */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Probability mass P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/**
 * @example
 * binomialTest(3, 40, 0.01, 'greater'); // p ≈ 0.0075: 3 errors in 40 is too many for 1%
 */
export function binomialTest(k: number, n: number, p0: number, alternative: Alternative = 'two-sided'): number {
  if (n === 0) return 1;
  let upper = 0;
  let lower = 0;
  for (let i = 0; i <= n; i++) {
    const q = binomialPmf(i, n, p0);
    if (i >= k) upper += q;
    if (i <= k) lower += q;
  }
  if (alternative === 'greater') return Math.min(1, upper);
  if (alternative === 'less') return Math.min(1, lower);
  const d = binomialPmf(k, n, p0);
  const relErr = 1 + 1e-7;
  let p = 0;
  for (let i = 0; i <= n; i++) {
    const q = binomialPmf(i, n, p0);
    if (q <= d * relErr) p += q;
  }
  return Math.min(1, p);
}

/** Lanczos approximation (g = 7, n = 9), accurate to ~15 digits for x > 0. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
