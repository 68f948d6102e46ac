/**
 * Speakers (spec §9): a speaker is a 768-d (hidden-size) fp16 vector that replaces the embedding
 * at the `[spk_emb]` position after L2 normalisation (spec §5.2). Packs ship named voices as
 * speaker strings — base16384(raw LZMA2(fp16 bytes)) — and the `spk_stat` statistics from which
 * a seeded random voice is drawn.
 * @module
 */
import { decodeBase16384 } from './base16384.ts';
import { decodeLzma2Raw } from './lzma2.ts';
import type { Rng } from './rng.ts';

export interface SpeakerStats {
  std: Float32Array;
  mean: Float32Array;
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Rounds to the nearest binary16 value (ties to even), returned as a number. */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Number.POSITIVE_INFINITY;
  // Spacing of binary16 values around a: 2^(e-10) for normals, 2^-24 for subnormals.
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  let r = Math.round(q);
  if (Math.abs(q - Math.trunc(q) - 0.5) < 1e-12 && r % 2 === 1) r -= 1;
  return Math.sign(x) * r * ulp;
}

function fp16Bytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 2 !== 0) throw new Error('fp16 data must have an even number of bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  return out;
}

/**
 * Decodes a speaker string to its raw (un-normalised) vector.
 * @example
 * const spk = decodeSpeaker(voices.default, 768); // Float32Array(768), norm ≈ 126 for real voices
 */
export function decodeSpeaker(text: string, dim: number): Float32Array {
  const raw = decodeLzma2Raw(decodeBase16384(text.trim()), dim * 2 + 16);
  if (raw.length !== dim * 2) throw new Error(`speaker string holds ${raw.length / 2} values, this model needs ${dim}`);
  return fp16Bytes(raw);
}

/** spk_stat is base16384 of fp16 [std | mean] without compression (spec §9.1). */
export function decodeSpeakerStats(text: string, dim: number): SpeakerStats {
  const v = fp16Bytes(decodeBase16384(text.trim()));
  if (v.length !== 2 * dim) throw new Error(`spk_stat holds ${v.length} values, expected ${2 * dim}`);
  return { std: v.slice(0, dim), mean: v.slice(dim) };
}

/** A random voice: N(0,1)·std + mean, rounded to fp16 like upstream's fp16 sampling. */
export function randomSpeaker(stats: SpeakerStats, rng: Rng): Float32Array {
  const out = new Float32Array(stats.std.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = roundToHalf(roundToHalf(rng.normal()) * stats.std[i]! + stats.mean[i]!);
  }
  return out;
}

/**
 * F.normalize(p=2, eps=1e-12) as upstream runs it: on the decoded fp16 tensor, so the norm is an
 * fp16 value and every quotient is rounded to fp16 (up to 6e-4 of max|x| away from the exact
 * quotient) before it replaces the fp32 embedding row at `[spk_emb]`.
 */
export function normalizeSpeaker(v: Float32Array): Float32Array {
  let ss = 0;
  for (const x of v) ss += x * x;
  const n = roundToHalf(Math.max(Math.sqrt(ss), 1e-12));
  return v.map((x) => roundToHalf(x / n));
}
