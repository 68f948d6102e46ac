/**
 * Band-limited resampling (windowed sinc, Blackman window) so every pair is compared at 16 kHz:
 * the canary may speak at 24 kHz (ChatTTS) or 8 kHz (flite kal) while the baseline is at 16 kHz,
 * and the VAD and the mel filterbank are defined at 16 kHz. Linear interpolation would alias the
 * 8–12 kHz band of a 24 kHz signal down into the speech band and bias the spectral distance.
 * @module
 */

const HALF_TAPS = 16;

/**
 * @example
 * const at16k = resample(samples, 24000, 16000);
 */
export function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from > 0 && to > 0)) throw new RangeError(`bad sample rates ${from} → ${to}`);
  const ratio = to / from;
  const outLen = Math.floor(input.length * ratio);
  const out = new Float32Array(outLen);
  // Cut off below the lower Nyquist; widen the kernel when downsampling so it stays a low-pass.
  const cutoff = Math.min(1, ratio) * 0.95;
  const half = Math.ceil(HALF_TAPS / Math.min(1, ratio));
  // Output sample i sits at input position i·from/to; its fractional part takes only to/gcd
  // values, so the kernels are computed once per phase instead of once per sample.
  const g = gcd(from, to);
  const step = from / g;
  const phases = to / g;
  const kernels = new Map<number, Float32Array>();
  const kernel = (phase: number): Float32Array => {
    let k = kernels.get(phase);
    if (!k) {
      const frac = phase / phases;
      k = new Float32Array(2 * half + 1);
      let norm = 0;
      for (let t = -half; t <= half; t++) {
        const x = t - frac;
        const v = cutoff * sinc(cutoff * x) * blackman(x / (half + 1));
        k[t + half] = v;
        norm += v;
      }
      for (let t = 0; t < k.length; t++) k[t] = k[t]! / norm;
      kernels.set(phase, k);
    }
    return k;
  };
  for (let i = 0; i < outLen; i++) {
    const pos = i * step;
    const base = Math.floor(pos / phases);
    const k = kernel(pos % phases);
    let acc = 0;
    for (let t = -half; t <= half; t++) {
      const j = base + t;
      if (j >= 0 && j < input.length) acc += input[j]! * k[t + half]!;
    }
    out[i] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window on [-1, 1]. */
function blackman(t: number): number {
  if (t <= -1 || t >= 1) return 0;
  const a = Math.PI * (t + 1);
  return 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
}
