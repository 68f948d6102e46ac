/**
 * What the judge measures for one pair (baseline audio, canary audio, same text). Pure given its
 * tools (a VAD and, optionally, an ASR), so tests can run it on the main thread; in the gateway
 * it runs inside the judge's worker threads (judge-task.ts), never on the event loop.
 * @module
 */
import { resample } from '../audio/resample.ts';
import { decodeAudio, type Audio } from '../audio/wav.ts';
import { decimate, dtw } from '../dsp/dtw.ts';
import { levelOf } from '../dsp/level.ts';
import { MEL_RATE, logMel, meanNormalise, trimSilence, type LogMel } from '../dsp/log-mel.ts';
import { wer } from '../asr/wer.ts';

export interface SideInput {
  /** The response body as the node sent it (WAV, or raw PCM16 with `sampleRate`). */
  bytes: Uint8Array;
  sampleRate?: number;
  /** Wall time from request to last byte, as the gateway measured it. */
  latencyMs: number;
}

export interface JudgeTask {
  text: string;
  baseline: SideInput;
  canary: SideInput;
  /** Run the ASR on this pair (the judge samples pairs for it; it is the costly part). */
  asr: boolean;
}

export interface SideMetrics {
  sampleRate: number;
  durationS: number;
  secPerChar: number;
  /** Latency over audio duration: below 1 is faster than real time. */
  rtf: number | null;
  speechFraction: number;
  rmsDbfs: number;
  peakDbfs: number;
  clipping: number;
  wer: number | null;
  transcript?: string;
}

export type AsrStatus = 'ok' | 'skipped' | 'unavailable' | 'failed';

export interface PairMetrics {
  baseline: SideMetrics;
  canary: SideMetrics;
  /** Canary duration over baseline duration. */
  durationRatio: number | null;
  /**
   * Log-mel DTW distance relative to the baseline's own spread: 0 = the same spectrogram,
   * ≈1 = no closer than a flat signal (noise, silence). Two flite voices saying the same text
   * measure 0.55–0.65 here, the same voice saying another sentence ≈0.75, noise ≈1.0.
   */
  distance: number | null;
  asr: AsrStatus;
  asrNote?: string;
  judgeMs: number;
}

export interface JudgeTools {
  speechFraction(samples16k: Float32Array): Promise<number>;
  /** Undefined when no ASR is installed; `reason` says why. */
  transcribe?: (samples16k: Float32Array) => Promise<string>;
  asrMissingReason?: string;
}

/** Below this speech fraction the ASR is not run: the clip is scored WER 1 (nothing intelligible). */
const NO_SPEECH = 0.05;
/** DTW cost is n·m; 1,200 frames (12 s at 10 ms hops) bounds one pair to ~0.2 s here. */
const MAX_FRAMES = 1_200;

/**
 * @example
 * const m = await judgePair(task, { speechFraction: (s) => vad.speechFraction(s).then((r) => r.speechFraction) });
 */
export async function judgePair(task: JudgeTask, tools: JudgeTools): Promise<PairMetrics> {
  const started = performance.now();
  const chars = Math.max(1, task.text.length);
  const b = decodeAudio(task.baseline.bytes, task.baseline.sampleRate);
  const c = decodeAudio(task.canary.bytes, task.canary.sampleRate);
  const b16 = resample(b.samples, b.sampleRate, MEL_RATE);
  const c16 = resample(c.samples, c.sampleRate, MEL_RATE);
  const side = async (a: Audio, s16: Float32Array, input: SideInput): Promise<SideMetrics> => {
    const durationS = a.samples.length / a.sampleRate;
    const level = levelOf(a.samples);
    return {
      sampleRate: a.sampleRate,
      durationS: round(durationS),
      secPerChar: round(durationS / chars, 5),
      rtf: durationS > 0 ? round(input.latencyMs / 1000 / durationS, 5) : null,
      speechFraction: round(await tools.speechFraction(s16)),
      rmsDbfs: round(level.rmsDbfs, 2),
      peakDbfs: round(level.peakDbfs, 2),
      clipping: round(level.clipping, 6),
      wer: null,
    };
  };
  const baseline = await side(b, b16, task.baseline);
  const canary = await side(c, c16, task.canary);

  let asr: AsrStatus = 'skipped';
  let asrNote: string | undefined;
  if (!task.asr) asr = 'skipped';
  else if (!tools.transcribe) {
    asr = 'unavailable';
    asrNote = tools.asrMissingReason;
  } else {
    try {
      for (const [m, s16] of [
        [baseline, b16],
        [canary, c16],
      ] as const) {
        if (m.speechFraction < NO_SPEECH) m.wer = 1;
        else {
          m.transcript = await tools.transcribe(s16);
          m.wer = round(wer(task.text, m.transcript));
        }
      }
      asr = 'ok';
    } catch (err) {
      asr = 'failed';
      asrNote = (err as Error).message;
      baseline.wer = canary.wer = null;
    }
  }

  return {
    baseline,
    canary,
    durationRatio: baseline.durationS > 0 ? round(canary.durationS / baseline.durationS) : null,
    distance: spectralDistance(b16, c16),
    asr,
    ...(asrNote !== undefined ? { asrNote } : {}),
    judgeMs: round(performance.now() - started, 1),
  };
}

/** See `PairMetrics.distance`. Null when the baseline itself has no spectral variation. */
export function spectralDistance(baseline16k: Float32Array, canary16k: Float32Array): number | null {
  const prep = (s: Float32Array): LogMel => {
    const m = meanNormalise(trimSilence(logMel(s)));
    const d = decimate(m.data, m.frames, m.bands, MAX_FRAMES);
    return { ...m, data: d.data, frames: d.frames };
  };
  const b = prep(baseline16k);
  const c = prep(canary16k);
  if (b.frames === 0) return null;
  let spread = 0;
  for (let f = 0; f < b.frames; f++) {
    let s = 0;
    for (let k = 0; k < b.bands; k++) s += b.data[f * b.bands + k]! ** 2;
    spread += Math.sqrt(s);
  }
  spread /= b.frames;
  if (spread === 0) return null;
  // An empty canary clip is as far as a flat one.
  if (c.frames === 0) return 1;
  return round(dtw(b.data, b.frames, c.data, c.frames, b.bands).distance / spread);
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
