/**
 * A small seedable PRNG (xoshiro128** seeded through splitmix32), so the same request seed gives
 * the same speaker and the same sampled codes on every machine. torch's generator cannot be
 * reproduced in JavaScript (spec §9.2, §10.2), so seeds here are our own, not upstream's.
 * @module
 */

export interface Rng {
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * @example
 * const rng = createRng(42);
 * rng.uniform(); // same value for seed 42 on every run
 */
export function createRng(seed: number): Rng {
  // Seeds beyond 32 bits (the API accepts any integer) fold their high part in.
  const hi = Math.floor(seed / 2 ** 32);
  const sm = splitmix32((seed >>> 0) ^ Math.imul(hi >>> 0, 0x27d4eb2d));
  const s = new Uint32Array([sm(), sm(), sm(), sm()]);
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  let spare: number | undefined;
  const uniform = (): number => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  return {
    uniform,
    normal() {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
