/**
 * Log-mel spectrogram at 16 kHz: 25 ms Hann windows every 10 ms, 512-point FFT, 40 triangular
 * mel bands from 60 Hz to 7.6 kHz (HTK mel scale). This is the usual front end of ASR and of
 * mel-cepstral distortion; it keeps the envelope that tells speech from noise and drops the
 * pitch harmonics that differ between two voices saying the same thing.
 * @module
 */
import FFT from 'fft.js';

export const MEL_RATE = 16_000;
const WIN = 400;
const HOP = 160;
const NFFT = 512;
export const MEL_BANDS = 40;
const FLOOR = 1e-10;

const hz2mel = (f: number) => 2595 * Math.log10(1 + f / 700);
const mel2hz = (m: number) => 700 * (10 ** (m / 2595) - 1);

let cached: { fft: FFT; window: Float32Array; bank: { start: number; weights: Float32Array }[] } | undefined;

function setup() {
  if (cached) return cached;
  const window = new Float32Array(WIN);
  for (let i = 0; i < WIN; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (WIN - 1));
  const lo = hz2mel(60);
  const hi = hz2mel(7600);
  const edges = Array.from({ length: MEL_BANDS + 2 }, (_, i) => (mel2hz(lo + ((hi - lo) * i) / (MEL_BANDS + 1)) * NFFT) / MEL_RATE);
  const bank = [];
  for (let b = 0; b < MEL_BANDS; b++) {
    const [l, c, r] = [edges[b]!, edges[b + 1]!, edges[b + 2]!];
    const start = Math.floor(l);
    const end = Math.ceil(r);
    const weights = new Float32Array(end - start + 1);
    for (let k = start; k <= end; k++) {
      const w = k < c ? (k - l) / (c - l) : (r - k) / (r - c);
      weights[k - start] = Math.max(0, w);
    }
    bank.push({ start, weights });
  }
  cached = { fft: new FFT(NFFT), window, bank };
  return cached;
}

/** Frames × bands, row-major, natural-log mel power. */
export interface LogMel {
  frames: number;
  bands: number;
  data: Float32Array;
  /** Per-frame energy (natural log of total power), for trimming silence. */
  energy: Float32Array;
}

/**
 * @example
 * const mel = logMel(resample(samples, 24000, MEL_RATE));
 */
export function logMel(samples: Float32Array): LogMel {
  const { fft, window, bank } = setup();
  const frames = samples.length < WIN ? 0 : 1 + Math.floor((samples.length - WIN) / HOP);
  const data = new Float32Array(frames * MEL_BANDS);
  const energy = new Float32Array(frames);
  const buf = new Float64Array(NFFT);
  const spec = fft.createComplexArray();
  const power = new Float64Array(NFFT / 2 + 1);
  for (let f = 0; f < frames; f++) {
    buf.fill(0);
    const off = f * HOP;
    for (let i = 0; i < WIN; i++) buf[i] = samples[off + i]! * window[i]!;
    fft.realTransform(spec, buf);
    let total = 0;
    for (let k = 0; k <= NFFT / 2; k++) {
      const re = spec[2 * k]!;
      const im = spec[2 * k + 1]!;
      power[k] = re * re + im * im;
      total += power[k]!;
    }
    energy[f] = Math.log(total + FLOOR);
    for (let b = 0; b < MEL_BANDS; b++) {
      const { start, weights } = bank[b]!;
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += (power[start + k] ?? 0) * weights[k]!;
      data[f * MEL_BANDS + b] = Math.log(acc + FLOOR);
    }
  }
  return { frames, bands: MEL_BANDS, data, energy };
}

/**
 * Drops leading and trailing frames more than `dropDb` below the loudest frame: pauses before
 * and after the words differ between engines and would otherwise dominate the alignment.
 */
export function trimSilence(mel: LogMel, dropDb = 40): LogMel {
  if (mel.frames === 0) return mel;
  let max = -Infinity;
  for (const e of mel.energy) max = Math.max(max, e);
  const floor = max - (dropDb / 10) * Math.LN10;
  let a = 0;
  let b = mel.frames - 1;
  while (a < b && mel.energy[a]! < floor) a++;
  while (b > a && mel.energy[b]! < floor) b--;
  return {
    frames: b - a + 1,
    bands: mel.bands,
    data: mel.data.slice(a * mel.bands, (b + 1) * mel.bands),
    energy: mel.energy.slice(a, b + 1),
  };
}

/** Subtracts each band's mean over time (cepstral mean normalisation in the mel domain). */
export function meanNormalise(mel: LogMel): LogMel {
  const data = mel.data.slice();
  for (let b = 0; b < mel.bands; b++) {
    let s = 0;
    for (let f = 0; f < mel.frames; f++) s += data[f * mel.bands + b]!;
    const m = mel.frames ? s / mel.frames : 0;
    for (let f = 0; f < mel.frames; f++) data[f * mel.bands + b] = data[f * mel.bands + b]! - m;
  }
  return { ...mel, data };
}
