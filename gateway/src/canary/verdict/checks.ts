/**
 * One check per judged property. Each turns the pairs into a statistic against its threshold:
 *   fail         — significantly worse than the threshold (p < alpha, one-sided)
 *   pass         — significantly better than the threshold (the mirror-image one-sided test)
 *   inconclusive — neither yet
 *   unavailable  — nothing to measure (e.g. no ASR installed)
 * Latency, speech fraction, loudness, WER and duration are paired: the Wilcoxon signed-rank test
 * runs on per-pair differences shifted by the threshold, so "canary ≤ 1.5 × baseline" is tested
 * directly. Distance is one number per pair, tested against its bound the same way. Errors use
 * the exact binomial test against the maximum rate.
 * @module
 */
import type { Thresholds } from '../../config/canary.ts';
import { binomialTest } from '../stats/binomial.ts';
import { wilcoxonSignedRank } from '../stats/wilcoxon.ts';
import type { PairRecord } from '../store/pair-record.ts';

export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'unavailable';

export interface Check {
  metric: string;
  status: CheckStatus;
  n: number;
  /** p-value of the test that decided (or the smaller of the two when undecided). */
  p: number | null;
  detail: string;
}

const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x.toPrecision(d)).toString());
const fp = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** Paired check: `d` are differences already shifted so that d > 0 means "past the threshold". */
function shifted(metric: string, d: number[], alpha: number, describe: (median: number) => string): Check {
  if (d.length === 0) return { metric, status: 'inconclusive', n: 0, p: null, detail: `${metric}: no pairs measured yet` };
  const worse = wilcoxonSignedRank(d, 'greater');
  const better = wilcoxonSignedRank(d, 'less');
  const what = describe(worse.median);
  if (worse.pValue < alpha)
    return { metric, status: 'fail', n: d.length, p: worse.pValue, detail: `${metric}: ${what} (Wilcoxon p=${fp(worse.pValue)}, n=${d.length})` };
  if (better.pValue < alpha)
    return { metric, status: 'pass', n: d.length, p: better.pValue, detail: `${metric}: ${what} (Wilcoxon p=${fp(better.pValue)}, n=${d.length})` };
  return {
    metric,
    status: 'inconclusive',
    n: d.length,
    p: Math.min(worse.pValue, better.pValue),
    detail: `${metric}: ${what}; not yet significant (n=${d.length})`,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function runChecks(pairs: readonly PairRecord[], t: Thresholds, asrAvailable: { available: boolean; reason?: string }): Check[] {
  const ok = pairs.filter((p) => p.outcome === 'ok' && p.metrics);
  const m = ok.map((p) => p.metrics!);
  const checks: Check[] = [];

  // Errors and timeouts: exact binomial against the maximum acceptable rate.
  const n = pairs.length;
  const k = pairs.filter((p) => p.outcome !== 'ok').length;
  const rate = n ? k / n : 0;
  const pHigh = binomialTest(k, n, t.max_error_rate, 'greater');
  const errDetail = `errors: ${k}/${n} (${fmt(rate * 100, 2)}%) vs max ${fmt(t.max_error_rate * 100, 2)}%`;
  if (n === 0) checks.push({ metric: 'errors', status: 'inconclusive', n, p: null, detail: 'errors: no mirrors finished yet' });
  else if (pHigh < t.alpha) checks.push({ metric: 'errors', status: 'fail', n, p: pHigh, detail: `${errDetail} (binomial p=${fp(pHigh)})` });
  // Showing a rate is *below* a 2% bound takes ~150 clean mirrors; a rate not above it and not
  // significantly so is accepted, as Flagger's success-rate check does.
  else
    checks.push({
      metric: 'errors',
      status: rate <= t.max_error_rate ? 'pass' : 'inconclusive',
      n,
      p: pHigh,
      detail: `${errDetail} (binomial p=${fp(pHigh)})`,
    });

  const latPairs = ok.filter((p) => p.canaryLatencyMs !== undefined);
  checks.push(
    shifted(
      'latency',
      latPairs.map((p) => p.canaryLatencyMs! - (1 + t.max_latency_increase) * p.baselineLatencyMs),
      t.alpha,
      () =>
        `median canary/baseline ${fmt(median(latPairs.map((p) => p.canaryLatencyMs! / Math.max(1e-3, p.baselineLatencyMs))))}× vs max ${fmt(1 + t.max_latency_increase)}×`,
    ),
  );
  checks.push(
    shifted(
      'speech_fraction',
      m.map((x) => x.baseline.speechFraction - x.canary.speechFraction - t.max_speech_fraction_drop),
      t.alpha,
      () =>
        `canary ${fmt(median(m.map((x) => x.canary.speechFraction)))} vs baseline ${fmt(median(m.map((x) => x.baseline.speechFraction)))} (max drop ${fmt(t.max_speech_fraction_drop)})`,
    ),
  );
  const dist = m.map((x) => x.distance).filter((x): x is number => x !== null);
  checks.push(
    shifted(
      'spectral_distance',
      dist.map((x) => x - t.max_distance),
      t.alpha,
      () => `median ${fmt(median(dist))} vs max ${fmt(t.max_distance)}`,
    ),
  );

  const ratios = m.map((x) => x.durationRatio).filter((x): x is number => x !== null && x > 0);
  const hi = shifted(
    'duration_ratio',
    ratios.map((r) => Math.log(r) - Math.log(t.duration_ratio_max)),
    t.alpha,
    () => '',
  );
  const lo = shifted(
    'duration_ratio',
    ratios.map((r) => Math.log(t.duration_ratio_min) - Math.log(r)),
    t.alpha,
    () => '',
  );
  const durWhat = `median ${fmt(median(ratios))} vs [${fmt(t.duration_ratio_min)}, ${fmt(t.duration_ratio_max)}]`;
  const durStatus: CheckStatus = hi.status === 'fail' || lo.status === 'fail' ? 'fail' : hi.status === 'pass' && lo.status === 'pass' ? 'pass' : 'inconclusive';
  const durP = durStatus === 'fail' ? Math.min(hi.status === 'fail' ? hi.p! : 1, lo.status === 'fail' ? lo.p! : 1) : Math.max(hi.p ?? 1, lo.p ?? 1);
  checks.push({
    metric: 'duration_ratio',
    status: ratios.length ? durStatus : 'inconclusive',
    n: ratios.length,
    p: ratios.length ? durP : null,
    detail: `duration_ratio: ${durWhat} (n=${ratios.length})`,
  });

  checks.push(
    shifted(
      'loudness',
      m.map((x) => Math.abs(x.canary.rmsDbfs - x.baseline.rmsDbfs) - t.max_loudness_diff_db),
      t.alpha,
      () => `median |Δ RMS| ${fmt(median(m.map((x) => Math.abs(x.canary.rmsDbfs - x.baseline.rmsDbfs))))} dB vs max ${fmt(t.max_loudness_diff_db)} dB`,
    ),
  );
  checks.push(
    shifted(
      'clipping',
      m.map((x) => x.canary.clipping - t.max_clipping),
      t.alpha,
      () => `median ${fmt(median(m.map((x) => x.canary.clipping)))} vs max ${fmt(t.max_clipping)}`,
    ),
  );

  const werPairs = m.filter((x) => x.baseline.wer !== null && x.canary.wer !== null);
  if (!asrAvailable.available && werPairs.length === 0)
    checks.push({ metric: 'wer', status: 'unavailable', n: 0, p: null, detail: `wer: unavailable (${asrAvailable.reason ?? 'no ASR'})` });
  else
    checks.push(
      shifted(
        'wer',
        werPairs.map((x) => x.canary.wer! - x.baseline.wer! - t.max_wer_increase),
        t.alpha,
        () =>
          `canary ${fmt(median(werPairs.map((x) => x.canary.wer!)))} vs baseline ${fmt(median(werPairs.map((x) => x.baseline.wer!)))} (max increase ${fmt(t.max_wer_increase)})`,
      ),
    );
  return checks;
}
