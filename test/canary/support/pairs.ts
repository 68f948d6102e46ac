/** Synthetic pair records for verdict, store, report and page tests (no audio needed). */
import type { PairMetrics, SideMetrics } from '../../../gateway/src/canary/judge/pair-metrics.ts';
import type { PairRecord } from '../../../gateway/src/canary/store/pair-record.ts';

export interface PairShape {
  speech: number;
  distance: number;
  latency: number;
  rms?: number;
  duration?: number;
  wer?: number | null;
}

const side = (s: PairShape, i: number): SideMetrics => ({
  sampleRate: 16_000,
  durationS: (s.duration ?? 3) + (i % 5) * 0.01,
  secPerChar: 0.06,
  rtf: s.latency / 1000 / 3,
  speechFraction: s.speech + (i % 7) * 0.003,
  rmsDbfs: (s.rms ?? -18) + (i % 3) * 0.2,
  peakDbfs: -3,
  clipping: 0,
  wer: s.wer ?? null,
});

/** `n` pairs whose baseline is good flite speech and whose canary follows `canary`. */
export function makePairs(n: number, canary: PairShape, opts: { name?: string; errors?: number; start?: number } = {}): PairRecord[] {
  const base: PairShape = { speech: 0.82, distance: 0, latency: 150, wer: canary.wer === undefined ? null : 0.1 };
  const out: PairRecord[] = [];
  for (let i = 0; i < n; i++) {
    const failed = i < (opts.errors ?? 0);
    const metrics: PairMetrics = {
      baseline: side(base, i),
      canary: side(canary, i + 3),
      durationRatio: ((canary.duration ?? 3) + ((i + 3) % 5) * 0.01) / (3 + (i % 5) * 0.01),
      distance: canary.distance + (i % 11) * 0.004,
      asr: canary.wer === undefined ? 'skipped' : 'ok',
      judgeMs: 200 + i,
    };
    out.push({
      canary: opts.name ?? 'c',
      at: (opts.start ?? 1_700_000_000_000) + i * 1000,
      traceId: `t${i}`,
      textLength: 50,
      servedModel: 'flite',
      configuredBaseline: true,
      outcome: failed ? 'error' : 'ok',
      ...(failed ? { errorCode: 'engine_failure' } : { metrics }),
      baselineLatencyMs: 150 + (i % 13) * 3,
      canaryLatencyMs: canary.latency + (i % 17) * 4,
    });
  }
  return out;
}

export const GOOD: PairShape = { speech: 0.84, distance: 0.6, latency: 160, rms: -21 };
export const NOISE: PairShape = { speech: 0.0, distance: 1.0, latency: 400, rms: -15, duration: 2.4 };
