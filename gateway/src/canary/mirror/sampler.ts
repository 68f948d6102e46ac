/**
 * Deterministic sampling: a request is mirrored when the hash of its normalised text falls
 * under the sample rate, so the same text is always in or always out and a report can be
 * reproduced from the same traffic. Normalisation (Unicode NFKC, case, whitespace) keeps
 * "Hello  world" and "hello world" together.
 *
 * The hash is cyrb53 (bryc's public-domain 53-bit string hash, two multiply-xor lanes): uniform
 * enough that the share of distinct texts sampled matches the rate (test/canary/sampler.test.ts),
 * and it runs on every request while canaries are configured, so ASCII text (which NFKC leaves
 * alone) is normalised as it is hashed, without building the normalised string; other text goes
 * through `normaliseText` first. SHA-1 over the normalised string cost
 * ~13 µs of main thread per request in the issue 8 profile; this costs well under one.
 * @module
 */

export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** cyrb53's two lanes, fed one UTF-16 code unit at a time. */
class Cyrb53 {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;

  add(code: number): void {
    this.h1 = Math.imul(this.h1 ^ code, 2654435761);
    this.h2 = Math.imul(this.h2 ^ code, 1597334677);
  }

  addString(s: string): void {
    for (let i = 0; i < s.length; i++) this.add(s.charCodeAt(i));
  }

  /** The 53-bit result scaled into [0, 1). */
  point(): number {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
  }
}

/** ASCII whitespace as `\s` matches it: tab, LF, VT, FF, CR, space. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Feeds `normaliseText(text)` to the hash without building it, when the text is ASCII; returns
 * false (having fed nothing) otherwise.
 */
function addNormalisedAscii(h: Cyrb53, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  let pendingSpace = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (isAsciiSpace(c)) {
      pendingSpace = started;
      continue;
    }
    if (pendingSpace) h.add(32);
    pendingSpace = false;
    started = true;
    if (c >= 65 && c <= 90) c += 32;
    h.add(c);
  }
  return true;
}

/** A number in [0, 1) fixed by the text (and an optional salt that gives an independent draw). */
export function textPoint(text: string, salt = ''): number {
  const h = new Cyrb53();
  h.addString(salt);
  h.add(0);
  if (!addNormalisedAscii(h, text)) h.addString(normaliseText(text));
  return h.point();
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
