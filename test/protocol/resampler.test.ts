import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createResampler, phaseTables } from '../../protocol/resampler.ts';
import { compileKernel, kernelModule } from '../../tools/resampler-kernel.ts';

function runChunked(from: number, to: number, input: Int16Array, cuts: number[]): Int16Array {
  const r = createResampler(from, to);
  const parts: Int16Array[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parts.push(r.push(input.subarray(at, cut)));
    at = cut;
  }
  parts.push(r.push(input.subarray(at)), r.flush());
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

function noise(n: number, seed: number): Int16Array {
  const out = new Int16Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) % 40000) - 20000;
  }
  return out;
}

const RATE_PAIRS: Array<[number, number]> = [
  [16000, 24000],
  [8000, 24000],
  [22050, 24000],
  [48000, 24000],
  [44100, 24000],
  // 46 taps a phase: the kernel's last pair after its four-tap steps
  [22050, 16000],
];

/** Output n straight from the definition: Σ_j x[⌊nM/L⌋ − H + 1 + j] · taps[nM mod L][j], in order. */
function definition(from: number, to: number, input: Int16Array): Int16Array {
  const { l, m, h, taps } = phaseTables(from, to);
  const out = new Int16Array(Math.ceil((input.length * to) / from));
  for (let n = 0; n < out.length; n++) {
    const base = Math.floor((n * m) / l);
    const row = ((n * m) % l) * 2 * h;
    let acc = 0;
    for (let j = 0; j < 2 * h; j++) acc += (input[base - h + 1 + j] ?? 0) * taps[row + j]!;
    out[n] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

describe('createResampler', () => {
  it.each(RATE_PAIRS)('%i → %i Hz: the SIMD kernel computes the definition (at most 1 LSB of summation order)', (from, to) => {
    // Long enough that one push crosses the kernel’s 16,384-output blocks (8 → 24 kHz: 36,000).
    const input = noise(12_000, from + 1);
    const got = runChunked(from, to, input, [1234]);
    const want = definition(from, to, input);
    expect(got.length).toBe(want.length);
    let differing = 0;
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      worst = Math.max(worst, d);
      if (d > 0) differing++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(differing).toBeLessThan(want.length / 1000);
  });

  it('runs the kernel compiled from the committed WAT (after editing it: npx tsx tools/resampler-kernel.ts)', async () => {
    expect(readFileSync(new URL('../../protocol/resampler-kernel.ts', import.meta.url), 'utf8')).toBe(kernelModule(await compileKernel()));
  });

  it.each(RATE_PAIRS)('%i → %i Hz gives bit-identical output for any chunking', (from, to) => {
    const input = noise(3000, from);
    const whole = runChunked(from, to, input, []);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 12 }), (cuts) => {
        expect(Buffer.from(runChunked(from, to, input, cuts).buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it.each(RATE_PAIRS)('%i → %i Hz yields exactly ceil(n·to/from) samples', (from, to) => {
    for (const n of [0, 1, 2, 157, 4410, 16001]) {
      expect(runChunked(from, to, noise(n, 3), [n >> 1]).length).toBe(Math.ceil((n * to) / from));
    }
  });

  it('keeps a 1 kHz tone clean from 16 to 24 kHz (SNR above 80 dB away from the edges)', () => {
    const tone = Int16Array.from({ length: 16000 }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)));
    const out = runChunked(16000, 24000, tone, [5000]);
    let err = 0;
    let sig = 0;
    for (let i = 400; i < out.length - 400; i++) {
      const ideal = 12000 * Math.sin((2 * Math.PI * 1000 * i) / 24000);
      err += (out[i]! - ideal) ** 2;
      sig += ideal ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(80);
  });

  it('keeps the pass band and removes what 24 kHz cannot carry (48 → 24 kHz)', () => {
    const tone = Int16Array.from({ length: 48000 }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * 10000 * i) / 48000)));
    const out = runChunked(48000, 24000, tone, []);
    let peak = 0;
    for (let i = 400; i < out.length - 400; i++) peak = Math.max(peak, Math.abs(out[i]!));
    // 10 kHz lies inside the pass band (0.94 × 12 kHz) and is kept.
    expect(peak).toBeGreaterThan(10000);
    const alias = Int16Array.from({ length: 48000 }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * 15000 * i) / 48000)));
    const aliased = runChunked(48000, 24000, alias, []);
    let aliasPeak = 0;
    for (let i = 400; i < aliased.length - 400; i++) aliasPeak = Math.max(aliasPeak, Math.abs(aliased[i]!));
    expect(aliasPeak).toBeLessThan(12); // 15 kHz would fold to 9 kHz: stop band ≥ 60 dB down
  });

  it('passes the same rate through untouched and refuses absurd rates', () => {
    const input = noise(100, 9);
    const r = createResampler(24000, 24000);
    expect(r.push(input)).toBe(input);
    expect(r.flush().length).toBe(0);
    expect(() => createResampler(0, 24000)).toThrow(RangeError);
    expect(() => createResampler(16000.5, 24000)).toThrow(RangeError);
  });

  it('refuses pushes after flush', () => {
    const r = createResampler(16000, 24000);
    r.flush();
    expect(() => r.push(new Int16Array(4))).toThrow(/flushed/);
  });
});
