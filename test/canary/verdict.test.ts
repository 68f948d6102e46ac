import { describe, expect, it } from 'vitest';
import { ThresholdsSchema } from '../../gateway/src/config/canary.ts';
import { decide } from '../../gateway/src/canary/verdict/verdict.ts';
import { GOOD, NOISE, makePairs } from './support/pairs.ts';

const t = ThresholdsSchema.parse({});
const noAsr = { available: false, reason: 'test' };

describe('verdict', () => {
  it('holds while the sample is too small, even for noise', () => {
    const v = decide(makePairs(10, NOISE), t, noAsr);
    expect(v.verdict).toBe('hold');
    expect(v.reasons[0]).toMatch(/sample too small: 10 of 30/);
  });

  it('rolls back noise with speech-fraction and distance reasons', () => {
    const v = decide(makePairs(40, NOISE), t, noAsr);
    expect(v.verdict).toBe('rollback');
    expect(v.reasons.some((r) => r.startsWith('speech_fraction'))).toBe(true);
    expect(v.reasons.some((r) => r.startsWith('spectral_distance'))).toBe(true);
    expect(v.checks.find((c) => c.metric === 'speech_fraction')!.p).toBeLessThan(1e-6);
  });

  it('promotes a canary that is within every bound, and says WER is unavailable', () => {
    const v = decide(makePairs(40, GOOD), t, noAsr);
    expect(v.verdict).toBe('promote');
    expect(v.checks.find((c) => c.metric === 'wer')!.status).toBe('unavailable');
  });

  it('rolls back on errors by the exact binomial test', () => {
    const v = decide(makePairs(40, GOOD, { errors: 5 }), t, noAsr);
    expect(v.verdict).toBe('rollback');
    expect(v.reasons.join()).toMatch(/errors: 5\/40/);
  });

  it('rolls back a canary twice as slow, and judges WER when present', () => {
    expect(decide(makePairs(40, { ...GOOD, latency: 400 }), t, noAsr).reasons.join()).toMatch(/^latency/);
    const bad = decide(makePairs(40, { ...GOOD, wer: 0.6 }), t, { available: true });
    expect(bad.verdict).toBe('rollback');
    expect(bad.reasons.join()).toMatch(/wer: canary 0.6/);
    expect(decide(makePairs(40, { ...GOOD, wer: 0.12 }), t, { available: true }).verdict).toBe('promote');
  });

  it('holds when the evidence is mixed', () => {
    // Distance right at the bound: neither significantly above nor below.
    const v = decide(makePairs(40, { ...GOOD, distance: 0.83 }), t, noAsr);
    expect(v.verdict).toBe('hold');
    expect(v.reasons.join()).toMatch(/spectral_distance/);
  });
});
