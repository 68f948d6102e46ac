import { describe, expect, it } from 'vitest';
import { binomialPmf, binomialTest, logGamma } from '../../gateway/src/canary/stats/binomial.ts';
import { histogram, quantile, summarise } from '../../gateway/src/canary/stats/summary.ts';
import { averageRanks, normalCdf, wilcoxonSignedRank } from '../../gateway/src/canary/stats/wilcoxon.ts';

describe('Wilcoxon signed-rank', () => {
  // R: x <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
  //    y <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)
  //    wilcox.test(x, y, paired = TRUE, alternative = "greater")  → V = 40, p-value = 0.01953
  const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
  const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
  const d = x.map((v, i) => v - y[i]!);

  it('matches R on the Hollander & Wolfe depression data', () => {
    const g = wilcoxonSignedRank(d, 'greater');
    expect(g.wPlus).toBe(40);
    expect(g.exact).toBe(true);
    expect(g.pValue).toBeCloseTo(0.01953, 5);
    expect(wilcoxonSignedRank(d, 'two-sided').pValue).toBeCloseTo(0.03906, 5);
    // P(W+ ≤ 40) = 1 − P(W+ ≥ 40) + P(W+ = 40); 3 of the 512 sign patterns give exactly 40.
    expect(wilcoxonSignedRank(d, 'less').pValue).toBeCloseTo(1 - 10 / 512 + 3 / 512, 10);
  });

  it('gives 2^-n when every difference is positive, and 1 for no information', () => {
    expect(
      wilcoxonSignedRank(
        Array.from({ length: 20 }, (_, i) => i + 1),
        'greater',
      ).pValue,
    ).toBeCloseTo(2 ** -20, 12);
    expect(wilcoxonSignedRank([0, 0, 0], 'greater').pValue).toBe(1);
    expect(wilcoxonSignedRank([], 'two-sided').pValue).toBe(1);
  });

  it('keeps ties exact: average ranks, doubled for the DP', () => {
    expect(averageRanks([3, 1, 3, 2])).toEqual([3.5, 1, 3.5, 2]);
    // All |d| tied, 4 positive of 4: P(W+ ≥ max) = 1/16 exactly.
    expect(wilcoxonSignedRank([1, 1, 1, 1], 'greater').pValue).toBeCloseTo(1 / 16, 12);
  });

  it('switches to the normal approximation past 50 pairs and agrees with the exact test near it', () => {
    const diffs = Array.from({ length: 60 }, (_, i) => Math.sin(i * 1.7) + 0.3);
    const approx = wilcoxonSignedRank(diffs, 'greater');
    expect(approx.exact).toBe(false);
    const exact50 = wilcoxonSignedRank(diffs.slice(0, 50), 'greater');
    expect(exact50.exact).toBe(true);
    expect(approx.pValue).toBeGreaterThan(0);
    expect(approx.pValue).toBeLessThan(0.05);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('exact binomial test', () => {
  it('matches known values', () => {
    // P(X ≥ 8 | n = 10, p = 0.5) = 56/1024
    expect(binomialTest(8, 10, 0.5, 'greater')).toBeCloseTo(56 / 1024, 12);
    // R: binom.test(682, 925, p = 0.75)$p.value = 0.3824916
    expect(binomialTest(682, 925, 0.75, 'two-sided')).toBeCloseTo(0.3825, 4);
    // 0 failures in 59 at p0 = 0.05: P(X ≤ 0) = 0.95^59
    expect(binomialTest(0, 59, 0.05, 'less')).toBeCloseTo(0.95 ** 59, 12);
    expect(binomialPmf(3, 5, 0.2)).toBeCloseTo(10 * 0.008 * 0.64, 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    expect(binomialTest(0, 0, 0.1)).toBe(1);
  });
});

describe('summaries', () => {
  it('interpolates quantiles like R type 7 and bins histograms', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(s, 0.5)).toBe(5.5);
    expect(quantile(s, 0.95)).toBeCloseTo(9.55, 10);
    const sum = summarise([10, 1, 5]);
    expect(sum).toMatchObject({ n: 3, min: 1, p50: 5, max: 10 });
    expect(summarise([]).p50).toBeNull();
    expect(histogram([0, 0.5, 1, 2, 99], 0, 2, 2).counts).toEqual([2, 3]);
  });
});
