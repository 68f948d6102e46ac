/**
 * Deterministic sampling: a request is mirrored when the hash of its normalised text falls
 * under the sample rate, so the same text is always in or always out and a report can be
 * reproduced from the same traffic. Normalisation (Unicode NFKC, case, whitespace) keeps
 * "Hello  world" and "hello world" together. The hash is SHA-1's first 52 bits: uniform enough
 * that the share of distinct texts sampled matches the rate (test/canary/sampler.test.ts).
 * @module
 */
import { hash } from 'node:crypto';

export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A number in [0, 1) fixed by the text (and an optional salt that gives an independent draw). */
export function textPoint(text: string, salt = ''): number {
  // One-shot `crypto.hash` (Node ≥ 20.12): this runs on every request while canaries are configured.
  const h = hash('sha1', `${salt}\u0000${normaliseText(text)}`, 'buffer');
  // 52 bits: exactly representable in a double.
  return (h.readUInt32BE(0) * 2 ** 20 + (h.readUInt32BE(4) >>> 12)) / 2 ** 52;
}

/**
 * @example
 * if (sampled(text, 0.05)) mirror(request);
 */
export function sampled(text: string, rate: number, salt = ''): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return isSampled(textPoint(text, salt), rate);
}

/** Whether a text at `point` (from `textPoint`) is in a sample of `rate`. */
export function isSampled(point: number, rate: number): boolean {
  return rate >= 1 || point < rate;
}
