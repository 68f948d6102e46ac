import { describe, expect, it } from 'vitest';
import { wer, words } from '../../gateway/src/canary/asr/wer.ts';
import { resample } from '../../gateway/src/canary/audio/resample.ts';
import { decodeAudio, encodeWav } from '../../gateway/src/canary/audio/wav.ts';
import { decimate, dtw } from '../../gateway/src/canary/dsp/dtw.ts';
import { levelOf } from '../../gateway/src/canary/dsp/level.ts';
import { logMel } from '../../gateway/src/canary/dsp/log-mel.ts';

const sine = (hz: number, rate: number, seconds: number, amp = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

describe('DTW', () => {
  it('aligns a sequence with a time-stretched copy at zero cost', () => {
    const r = dtw(Float32Array.of(0, 1, 2, 3), 4, Float32Array.of(0, 0, 1, 1, 2, 3, 3), 7, 1);
    expect(r.distance).toBe(0);
    expect(r.pathLength).toBe(7);
  });

  it('computes the known cost of a small example', () => {
    // a = [1, 2, 3], b = [2, 2, 4]: path (0,0)(1,1)(2,2) costs 1 + 0 + 1 = 2 over 3 cells
    // (the best; (0,0)(1,0)... costs more).
    const r = dtw(Float32Array.of(1, 2, 3), 3, Float32Array.of(2, 2, 4), 3, 1);
    expect(r.distance * r.pathLength).toBeCloseTo(2, 10);
    expect(r.pathLength).toBe(3);
  });

  it('uses Euclidean distance across dimensions, and decimates long sequences', () => {
    const r = dtw(Float32Array.of(0, 0), 1, Float32Array.of(3, 4), 1, 2);
    expect(r.distance).toBe(5);
    const d = decimate(Float32Array.of(1, 3, 5, 7, 9), 5, 1, 3);
    expect(d.frames).toBe(3);
    expect([...d.data]).toEqual([2, 6, 9]);
  });
});

describe('audio plumbing', () => {
  it('round-trips PCM16 WAV and reads raw PCM with a rate', () => {
    const s = sine(440, 16_000, 0.1);
    const back = decodeAudio(encodeWav(s, 16_000), undefined);
    expect(back.sampleRate).toBe(16_000);
    expect(back.samples.length).toBe(s.length);
    expect(Math.abs(back.samples[100]! - s[100]!)).toBeLessThan(1e-4);
    const raw = encodeWav(s, 16_000).slice(44);
    expect(decodeAudio(raw, 8_000).sampleRate).toBe(8_000);
    expect(() => decodeAudio(raw, undefined)).toThrow(/sample rate/);
  });

  it('resamples 24 kHz and 8 kHz to 16 kHz keeping the tone and dropping what is above Nyquist', () => {
    for (const from of [24_000, 8_000]) {
      const out = resample(sine(1_000, from, 0.5), from, 16_000);
      expect(out.length).toBe(8_000);
      // Zero crossings of a 1 kHz tone over 0.5 s: ~1000.
      let crossings = 0;
      for (let i = 1; i < out.length; i++) if (out[i - 1]! < 0 !== out[i]! < 0) crossings++;
      expect(Math.abs(crossings - 1000)).toBeLessThan(6);
    }
    // 11 kHz at 24 kHz cannot exist at 16 kHz: the low-pass removes it.
    const alias = resample(sine(11_000, 24_000, 0.5), 24_000, 16_000);
    expect(levelOf(alias.subarray(200, -200)).rmsDbfs).toBeLessThan(-30);
  });

  it('measures RMS dBFS and clipping', () => {
    const l = levelOf(sine(440, 16_000, 1, 1));
    expect(l.rmsDbfs).toBeCloseTo(-3.01, 1);
    expect(l.clipping).toBeGreaterThan(0);
    expect(levelOf(new Float32Array(100)).rmsDbfs).toBe(-120);
  });

  it('puts a tone’s energy in the right mel band', () => {
    const mel = logMel(sine(1_000, 16_000, 0.5));
    expect(mel.frames).toBe(48);
    const row = mel.data.subarray(10 * 40, 11 * 40);
    const top = row.indexOf(Math.max(...row));
    // 1 kHz on a 60–7600 Hz, 40-band HTK scale sits near band 12.
    expect(top).toBeGreaterThanOrEqual(10);
    expect(top).toBeLessThanOrEqual(14);
  });
});

describe('WER', () => {
  it('normalises and counts edits over reference words', () => {
    expect(words("Please, call Stella's  phone!")).toEqual(['please', 'call', "stella's", 'phone']);
    expect(wer('Please call Stella.', 'please call stella')).toBe(0);
    expect(wer('please call stella', 'please stella now')).toBeCloseTo(2 / 3, 10);
    expect(wer('a b c', '')).toBe(1);
    expect(wer('', '')).toBe(0);
  });
});
