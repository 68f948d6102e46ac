/**
 * The canary section of the gateway config: which models are shadowed and judged (`canaries`)
 * and how the judge works (`canary_judge`). Defaults live here; gateway/src/config/schema.ts
 * embeds both schemas, so one file validates the whole config.
 * @module
 */
import { z } from 'zod';

/**
 * Verdict thresholds. Each is a bound the paired statistics test against (see verdict/checks.ts):
 * a metric fails when it is significantly past the bound, passes when significantly within it.
 */
export const ThresholdsSchema = z
  .object({
    /** Finished mirrors (compared + failed) before anything but `hold`. */
    min_pairs: z.number().int().min(6).default(30),
    /** Significance level of every test. */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Largest acceptable canary error+timeout rate (exact binomial test). */
    max_error_rate: z.number().min(0).max(1).default(0.02),
    /** Canary latency may be up to (1 + this) × the baseline's on the same text. */
    max_latency_increase: z.number().min(0).default(0.5),
    /** Largest acceptable drop in speech fraction (absolute, 0..1). */
    max_speech_fraction_drop: z.number().min(0).max(1).default(0.15),
    /** Largest acceptable relative log-mel DTW distance (0 identical, ~1 noise). */
    max_distance: z.number().gt(0).default(0.85),
    duration_ratio_min: z.number().gt(0).default(0.6),
    duration_ratio_max: z.number().gt(0).default(1.6),
    /** Largest acceptable WER increase (absolute) when an ASR is installed. */
    max_wer_increase: z.number().min(0).max(1).default(0.15),
    max_loudness_diff_db: z.number().min(0).default(12),
    max_clipping: z.number().min(0).max(1).default(0.01),
  })
  .strict()
  .refine((t) => t.duration_ratio_min < t.duration_ratio_max, { message: 'duration_ratio_min must be < duration_ratio_max' });

export type Thresholds = z.infer<typeof ThresholdsSchema>;

const THRESHOLD_KEYS = [
  'min_pairs',
  'alpha',
  'max_error_rate',
  'max_latency_increase',
  'max_speech_fraction_drop',
  'max_distance',
  'duration_ratio_min',
  'duration_ratio_max',
  'max_wer_increase',
  'max_loudness_diff_db',
  'max_clipping',
] as const satisfies readonly (keyof Thresholds)[];

export const CanarySchema = z
  .object({
    /** Config model id of the canary (usually `role: canary`). */
    canary: z.string().min(1),
    /** Config model id it is compared with. */
    baseline: z.string().min(1),
    sample_rate: z.number().min(0).max(1).default(0.05),
    /** Plans whose traffic may be sampled; empty = all. */
    plans: z.array(z.string()).default([]),
    /** Shadow requests in flight to this canary at most; more are dropped and counted. */
    max_concurrent: z.number().int().positive().default(4),
    /** Budget of one shadow request (sent as x-request-deadline-ms). */
    timeout_ms: z.number().int().positive().default(10_000),
    /** Per-canary overrides of `canary_judge.thresholds` (same keys; checked again as a whole). */
    thresholds: z.partialRecord(z.enum(THRESHOLD_KEYS), z.number()).default({}),
  })
  .strict();

export type CanaryConfig = z.infer<typeof CanarySchema>;

export const CanaryJudgeSchema = z
  .object({
    /** SQLite file holding pairs, counters and verdict history (survives restarts). */
    store: z.string().min(1).default('.tmp/canary/canary.sqlite'),
    /** Judge worker threads. */
    threads: z.number().int().min(1).max(16).default(1),
    /** Pairs waiting for a worker at most; more are dropped and counted. */
    queue: z.number().int().min(0).default(32),
    /** `auto`: WER when pocketsphinx is installed; `off`: never. */
    asr: z.enum(['auto', 'off']).default('auto'),
    /**
     * The judge's CPU budget (judge-budget.ts): `serving_share` of the gateway's own serving CPU,
     * at least `min_core_share` and at most `max_core_share` of one core. Mirrors beyond it are
     * compared on errors and latency only (counted as `unjudged`). A pair costs ~0.1 s of CPU,
     * more with ASR. 2 %: mirroring a 5 % sample already adds ~3 % to each request at saturation
     * (a second upstream call), and issue 8 bounds shadowing at +5 % in all.
     */
    serving_share: z.number().min(0).max(1).default(0.02),
    min_core_share: z.number().min(0).max(16).default(0.005),
    max_core_share: z.number().gt(0).max(16).default(0.05),
    /** Share of pairs that get ASR (it costs ~10× the rest of the judge). */
    asr_sample_rate: z.number().min(0).max(1).default(0.2),
    /** The report and verdict use each canary's most recent pairs, at most this many. */
    window: z.number().int().min(10).default(2_000),
    thresholds: ThresholdsSchema.prefault({}),
  })
  .strict();

export type CanaryJudgeConfig = z.infer<typeof CanaryJudgeSchema>;

/** Global thresholds with one canary's overrides applied (validated again as a whole). */
export function thresholdsFor(judge: CanaryJudgeConfig, canary: CanaryConfig): Thresholds {
  return ThresholdsSchema.parse({ ...judge.thresholds, ...canary.thresholds });
}
