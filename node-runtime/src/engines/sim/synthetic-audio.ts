/**
 * Synthetic speech stand-in: a pitch-gliding tone with a syllable-rate amplitude envelope, as
 * valid mono PCM16. Deterministic in (text, voice, seed) so tests can compare bytes, and cheap
 * (one sine per sample) so a load test measures the gateway rather than this generator.
 * @module
 */

export interface ToneSpec {
  durationMs: number;
  sampleRate: number;
  /** Start pitch; the tone glides up by half an octave over the clip. */
  baseHz: number;
  /** Varies the glide and envelope phase so different seeds give different bytes. */
  seed: number;
}

const AMPLITUDE = 0.3 * 32767;
/** Roughly the syllable rate of speech; makes the envelope look like words on a waveform plot. */
const SYLLABLES_PER_S = 4;

export function synthesizeTone(spec: ToneSpec): Int16Array {
  const count = Math.max(1, Math.round((spec.durationMs / 1000) * spec.sampleRate));
  const pcm = new Int16Array(count);
  const glide = 1.5 + ((spec.seed % 97) / 97) * 0.2;
  const envPhase = ((spec.seed >>> 8) % 360) * (Math.PI / 180);
  let phase = 0;
  for (let i = 0; i < count; i++) {
    const t = i / count;
    const hz = spec.baseHz * (1 + (glide - 1) * t);
    phase += (2 * Math.PI * hz) / spec.sampleRate;
    const envelope = 0.55 + 0.45 * Math.sin((2 * Math.PI * SYLLABLES_PER_S * i) / spec.sampleRate + envPhase);
    pcm[i] = Math.round(AMPLITUDE * envelope * Math.sin(phase));
  }
  return pcm;
}

/** FNV-1a over the UTF-16 code units: a stable per-text seed, not a security hash. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
