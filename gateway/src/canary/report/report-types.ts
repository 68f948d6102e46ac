/**
 * The report's shape: docs/contract.md fixes `canaries[].{canary, baseline, sample_rate, mirrored,
 * compared, errors, latency_ms, audio, verdict, reasons}`; everything else is an extension.
 * @module
 */
import type { Thresholds } from '../../config/canary.ts';
import type { Histogram, Summary } from '../stats/summary.ts';
import type { VerdictPoint } from '../store/canary-store.ts';
import type { Check } from '../verdict/checks.ts';
import type { Verdict } from '../verdict/verdict.ts';

export interface Paired {
  canary: Summary;
  baseline: Summary;
  /** Per-pair canary − baseline. */
  paired_diff: Summary;
}

export interface CanaryReport {
  canary: string;
  baseline: string;
  sample_rate: number;
  /** Sampled / eligible requests: the measured share next to the configured rate. */
  measured_share: number | null;
  eligible: number;
  sampled: number;
  mirrored: number;
  /** Mirrors whose audio the judge scored. */
  compared: number;
  /** Mirrors answered but not judged (the judge's CPU budget): they count for errors and latency. */
  unjudged: number;
  dropped: { total: number; cap: number; no_headroom: number; baseline_streamed: number; judge_backlog: number };
  errors: {
    count: number;
    timeouts: number;
    rate: number | null;
    by_code: Record<string, number>;
    max_rate: number;
    p_value: number | null;
    judge_failed: number;
  };
  latency_ms: Paired & { histogram: { edges: number[]; canary: number[]; baseline: number[] }; rtf: Paired };
  audio: {
    duration_ratio: Summary;
    duration_s: Paired;
    seconds_per_char: Paired;
    speech_fraction: Paired;
    rms_dbfs: Paired;
    clipping: Paired;
    spectral_distance: Summary & { histogram: Histogram };
    wer: Paired & { available: boolean; reason?: string; pairs: number };
  };
  verdict: Verdict;
  reasons: string[];
  checks: Check[];
  thresholds: Thresholds;
  /** Pairs by the model that served the client; only the configured baseline's drive the verdict. */
  judged_against: Record<string, number>;
  window: { pairs: number; verdict_pairs: number; first_at: number | null; last_at: number | null };
  judge_ms: Summary;
  history: VerdictPoint[];
}

export interface Report {
  generated_at: string;
  asr: { available: boolean; reason?: string };
  canaries: CanaryReport[];
}
