/**
 * Inverse STFT matching torch.istft(n_fft 1024, hop 256, win 1024, periodic Hann, center=True)
 * (spec §7): per frame a 1024-point inverse real FFT of mag·(cos + i·sin) — imaginary parts of the
 * DC and Nyquist bins ignored, 1/N scaling — times the window, overlap-added every 256 samples,
 * divided by the overlap-added squared window, with 512 samples trimmed at each end.
 * Output length: 256·(F − 1).
 * @module
 */
import FFT from 'fft.js';

export const N_FFT = 1024;
export const HOP = 256;
export const BINS = N_FFT / 2 + 1;

const WINDOW = Float64Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));

/**
 * mag/cos/sin are (513 × F) row-major (bin-major, as the ONNX graph emits them for batch 1).
 * @example
 * const wav = istft(mag, cos, sin, frames); // Float32Array(256 * (frames - 1))
 */
export function istft(mag: Float32Array, cos: Float32Array, sin: Float32Array, frames: number): Float32Array {
  if (mag.length !== BINS * frames || cos.length !== mag.length || sin.length !== mag.length) {
    throw new Error(`istft: expected ${BINS}×${frames} values`);
  }
  if (frames < 1) return new Float32Array(0);
  const fft = new FFT(N_FFT);
  const spec = fft.createComplexArray();
  const time = fft.createComplexArray();
  const total = N_FFT + HOP * (frames - 1);
  const acc = new Float64Array(total);
  const env = new Float64Array(total);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < BINS; k++) {
      const m = mag[k * frames + f]!;
      const re = m * cos[k * frames + f]!;
      const im = k === 0 || k === N_FFT / 2 ? 0 : m * sin[k * frames + f]!;
      spec[2 * k] = re;
      spec[2 * k + 1] = im;
      if (k > 0 && k < N_FFT / 2) {
        spec[2 * (N_FFT - k)] = re;
        spec[2 * (N_FFT - k) + 1] = -im;
      }
    }
    fft.inverseTransform(time, spec);
    const off = f * HOP;
    for (let n = 0; n < N_FFT; n++) {
      const w = WINDOW[n]!;
      acc[off + n] = acc[off + n]! + time[2 * n]! * w;
      env[off + n] = env[off + n]! + w * w;
    }
  }
  const pad = N_FFT / 2;
  const out = new Float32Array(HOP * (frames - 1));
  for (let i = 0; i < out.length; i++) {
    const e = env[pad + i]!;
    // torch.istft refuses a near-zero envelope; with centre padding it never occurs inside the trim.
    out[i] = e > 1e-11 ? acc[pad + i]! / e : 0;
  }
  return out;
}
