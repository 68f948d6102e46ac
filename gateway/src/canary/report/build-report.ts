/**
 * Builds one canary's report from its recent pairs, its counters and its verdict history.
 * Pure: the gateway's `/v1/canary/report`, the page and the CLI all call this same function,
 * so the three can never disagree.
 * @module
 */
import type { CanaryConfig, Thresholds } from '../../config/canary.ts';
import { binomialTest } from '../stats/binomial.ts';
import { histogram, summarise } from '../stats/summary.ts';
import type { VerdictPoint } from '../store/canary-store.ts';
import type { PairRecord } from '../store/pair-record.ts';
import type { SideMetrics } from '../judge/pair-metrics.ts';
import { decide } from '../verdict/verdict.ts';
import type { CanaryReport, Paired } from './report-types.ts';

export interface ReportInput {
  config: Pick<CanaryConfig, 'canary' | 'baseline' | 'sample_rate'>;
  thresholds: Thresholds;
  pairs: readonly PairRecord[];
  counters: Readonly<Record<string, number>>;
  history: VerdictPoint[];
  asr: { available: boolean; reason?: string };
}

function paired(rows: readonly { b: number | null; c: number | null }[]): Paired {
  const both = rows.filter((r): r is { b: number; c: number } => r.b !== null && r.c !== null && Number.isFinite(r.b) && Number.isFinite(r.c));
  return {
    canary: summarise(rows.map((r) => r.c).filter((x): x is number => x !== null)),
    baseline: summarise(rows.map((r) => r.b).filter((x): x is number => x !== null)),
    paired_diff: summarise(both.map((r) => r.c - r.b)),
  };
}

/**
 * @example
 * const report = buildReport({ config, thresholds, pairs, counters, history, asr });
 */
export function buildReport(input: ReportInput): CanaryReport {
  const { config, thresholds: t, pairs, counters: k } = input;
  const verdictPairs = pairs.filter((p) => p.configuredBaseline);
  const decision = decide(verdictPairs, t, input.asr);
  const ok = pairs.filter((p) => p.outcome === 'ok' && p.metrics);
  const m = ok.map((p) => p.metrics!);
  const side = (f: (s: SideMetrics) => number | null) => m.map((x) => ({ b: f(x.baseline), c: f(x.canary) }));

  const lat = paired(pairs.filter((p) => p.outcome === 'ok').map((p) => ({ b: p.baselineLatencyMs, c: p.canaryLatencyMs ?? null })));
  const allLat = pairs.flatMap((p) => [p.baselineLatencyMs, p.canaryLatencyMs ?? Number.NaN]).filter(Number.isFinite);
  const hi = allLat.length ? Math.max(...allLat) : 1;
  const hb = histogram(
    pairs.map((p) => p.baselineLatencyMs),
    0,
    hi,
    20,
  );
  const hc = histogram(
    pairs.filter((p) => p.canaryLatencyMs !== undefined).map((p) => p.canaryLatencyMs!),
    0,
    hi,
    20,
  );

  const byCode: Record<string, number> = {};
  for (const [name, v] of Object.entries(k)) if (name.startsWith('error:')) byCode[name.slice(6)] = v;
  const errCount = k.errors ?? 0;
  const finished = (k.compared ?? 0) + (k.unjudged ?? 0) + errCount + (k.judge_failed ?? 0);
  const dist = m.map((x) => x.distance).filter((x): x is number => x !== null);
  const werRows = side((s) => s.wer);
  const judgedAgainst: Record<string, number> = {};
  for (const p of pairs) judgedAgainst[p.servedModel] = (judgedAgainst[p.servedModel] ?? 0) + 1;
  const dropped = {
    cap: k.dropped_cap ?? 0,
    no_headroom: k.dropped_no_headroom ?? 0,
    baseline_streamed: k.dropped_baseline_streamed ?? 0,
    judge_backlog: k.dropped_judge_backlog ?? 0,
  };

  return {
    canary: config.canary,
    baseline: config.baseline,
    sample_rate: config.sample_rate,
    measured_share: k.eligible ? Math.round(((k.sampled ?? 0) / k.eligible) * 10_000) / 10_000 : null,
    eligible: k.eligible ?? 0,
    sampled: k.sampled ?? 0,
    mirrored: k.mirrored ?? 0,
    compared: k.compared ?? 0,
    unjudged: k.unjudged ?? 0,
    dropped: { total: dropped.cap + dropped.no_headroom + dropped.baseline_streamed + dropped.judge_backlog, ...dropped },
    errors: {
      count: errCount,
      timeouts: k.timeouts ?? 0,
      rate: finished ? Math.round((errCount / finished) * 10_000) / 10_000 : null,
      by_code: byCode,
      max_rate: t.max_error_rate,
      p_value: verdictPairs.length
        ? binomialTest(verdictPairs.filter((p) => p.outcome !== 'ok').length, verdictPairs.length, t.max_error_rate, 'greater')
        : null,
      judge_failed: k.judge_failed ?? 0,
    },
    latency_ms: {
      ...lat,
      histogram: { edges: hb.edges, baseline: hb.counts, canary: hc.counts },
      rtf: paired(side((s) => s.rtf)),
    },
    audio: {
      duration_ratio: summarise(m.map((x) => x.durationRatio).filter((x): x is number => x !== null)),
      duration_s: paired(side((s) => s.durationS)),
      seconds_per_char: paired(side((s) => s.secPerChar)),
      speech_fraction: paired(side((s) => s.speechFraction)),
      rms_dbfs: paired(side((s) => s.rmsDbfs)),
      clipping: paired(side((s) => s.clipping)),
      spectral_distance: { ...summarise(dist), histogram: histogram(dist, 0, 1.5, 15) },
      wer: {
        ...paired(werRows),
        available: input.asr.available,
        ...(input.asr.reason !== undefined ? { reason: input.asr.reason } : {}),
        pairs: werRows.filter((r) => r.b !== null && r.c !== null).length,
      },
    },
    verdict: decision.verdict,
    reasons: decision.reasons,
    checks: decision.checks,
    thresholds: t,
    judged_against: judgedAgainst,
    window: { pairs: pairs.length, verdict_pairs: verdictPairs.length, first_at: pairs[0]?.at ?? null, last_at: pairs[pairs.length - 1]?.at ?? null },
    judge_ms: summarise(m.map((x) => x.judgeMs)),
    history: input.history,
  };
}
