/**
 * Loudness and clipping. RMS in dBFS over the whole clip (full scale = 1.0), peak in dBFS, and
 * the share of samples at or beyond 99.9% of full scale, which is what a clipped PCM16 stream
 * looks like after decoding.
 * @module
 */

export interface Level {
  rmsDbfs: number;
  peakDbfs: number;
  clipping: number;
}

const SILENT_DB = -120;
const CLIP = 0.999;

/**
 * @example
 * levelOf(samples).rmsDbfs; // -23.4
 */
export function levelOf(samples: Float32Array): Level {
  if (samples.length === 0) return { rmsDbfs: SILENT_DB, peakDbfs: SILENT_DB, clipping: 0 };
  let sq = 0;
  let peak = 0;
  let clipped = 0;
  for (const s of samples) {
    sq += s * s;
    const a = Math.abs(s);
    if (a > peak) peak = a;
    if (a >= CLIP) clipped++;
  }
  const db = (x: number) => (x > 0 ? Math.max(SILENT_DB, 20 * Math.log10(x)) : SILENT_DB);
  return { rmsDbfs: db(Math.sqrt(sq / samples.length)), peakDbfs: db(peak), clipping: clipped / samples.length };
}
