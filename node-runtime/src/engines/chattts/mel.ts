/**
 * Log-mel features of a waveform, as upstream's DVAE computes them before encoding (torchaudio
 * `MelSpectrogram(24000, n_fft 1024, hop 256, n_mels 100)` with its documented defaults: periodic
 * Hann window, centre framing with reflect padding, magnitude (power 1), HTK mel scale without
 * normalisation, f_min 0, f_max 12 kHz), then log(max(·, 1e-5)). The exporter checks a
 * checkpoint's stored filterbank against the same formula (`htk_mel_filterbank`).
 * @module
 */
import FFT from 'fft.js';
import { BINS, HOP, N_FFT } from './istft.ts';

export const N_MELS = 100;
const SAMPLE_RATE = 24_000;

const WINDOW = Float32Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));

/** (BINS × N_MELS) triangular filters, computed in float32 steps as torchaudio does. */
function htkFilterbank(): Float32Array {
  const f32 = Math.fround;
  const hzToMel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const mMax = hzToMel(SAMPLE_RATE / 2);
  const fPts = Float32Array.from({ length: N_MELS + 2 }, (_, i) => {
    const m = f32(mMax * f32(i / (N_MELS + 1)));
    return f32(700 * f32(f32(10 ** f32(m / 2595)) - 1));
  });
  const fb = new Float32Array(BINS * N_MELS);
  for (let k = 0; k < BINS; k++) {
    const freq = f32(((SAMPLE_RATE / 2) * k) / (BINS - 1));
    for (let m = 0; m < N_MELS; m++) {
      const down = f32(-f32(fPts[m]! - freq) / f32(fPts[m + 1]! - fPts[m]!));
      const up = f32(f32(fPts[m + 2]! - freq) / f32(fPts[m + 2]! - fPts[m + 1]!));
      fb[k * N_MELS + m] = Math.max(0, Math.min(down, up));
    }
  }
  return fb;
}

/** Each filter's non-zero bins [from, to) (a triangle spans a few bins): the sum skips the zeros. */
interface Filters {
  fb: Float32Array;
  from: Int32Array;
  to: Int32Array;
}

function filters(): Filters {
  const fb = htkFilterbank();
  const from = new Int32Array(N_MELS);
  const to = new Int32Array(N_MELS);
  for (let m = 0; m < N_MELS; m++) {
    let lo = BINS;
    let hi = 0;
    for (let k = 0; k < BINS; k++) {
      if (fb[k * N_MELS + m]! !== 0) {
        lo = Math.min(lo, k);
        hi = k + 1;
      }
    }
    from[m] = Math.min(lo, hi);
    to[m] = hi;
  }
  return { fb, from, to };
}

let cached: Filters | undefined;

/**
 * (N_MELS × frames) row-major, frames = ⌊L / 256⌋ + 1.
 * @example
 * const { mel, frames } = logMel(wav); // the DVAE encoder's input for one waveform
 */
export function logMel(wav: Float32Array): { mel: Float32Array; frames: number } {
  const { fb, from, to } = (cached ??= filters());
  const pad = N_FFT / 2;
  if (wav.length <= pad) throw new Error(`logMel: ${wav.length} samples is too short for reflect padding (needs > ${pad})`);
  const frames = Math.floor(wav.length / HOP) + 1;
  const at = (i: number): number => {
    // Reflect padding (the edge sample is not repeated), as torch's pad mode "reflect".
    const j = i < 0 ? -i : i >= wav.length ? 2 * (wav.length - 1) - i : i;
    return wav[j]!;
  };
  const fft = new FFT(N_FFT);
  const input = fft.createComplexArray();
  const spec = fft.createComplexArray();
  const mag = new Float64Array(BINS);
  const mel = new Float32Array(N_MELS * frames);
  for (let f = 0; f < frames; f++) {
    const start = f * HOP - pad;
    for (let n = 0; n < N_FFT; n++) {
      input[2 * n] = at(start + n) * WINDOW[n]!;
      input[2 * n + 1] = 0;
    }
    fft.transform(spec, input);
    for (let k = 0; k < BINS; k++) mag[k] = Math.hypot(spec[2 * k]!, spec[2 * k + 1]!);
    for (let m = 0; m < N_MELS; m++) {
      let acc = 0;
      for (let k = from[m]!; k < to[m]!; k++) acc += mag[k]! * fb[k * N_MELS + m]!;
      mel[m * frames + f] = Math.log(Math.max(acc, 1e-5));
    }
  }
  return { mel, frames };
}
