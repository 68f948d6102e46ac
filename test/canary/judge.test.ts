/**
 * The judge on real audio: flite speech (three voices) against white noise and silence, through
 * the real Silero VAD session, the log-mel DTW distance, and the worker pool the gateway uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectPocketsphinx, transcribe } from '../../gateway/src/canary/asr/pocketsphinx.ts';
import { wer } from '../../gateway/src/canary/asr/wer.ts';
import { systemPackage } from '../support/system-package.ts';
import { resample } from '../../gateway/src/canary/audio/resample.ts';
import { encodeWav } from '../../gateway/src/canary/audio/wav.ts';
import { JudgePool } from '../../gateway/src/canary/judge/judge-pool.ts';
import { judgePair, spectralDistance } from '../../gateway/src/canary/judge/pair-metrics.ts';
import { SileroVad } from '../../gateway/src/canary/vad/silero.ts';
import { flite, fliteWav, silence, whiteNoise } from './support/flite.ts';

const TEXT = 'Please call Stella. Ask her to bring these things with her from the store.';
let vad: SileroVad;
let slt: Float32Array;
let rms: Float32Array;
let kal16: Float32Array;

beforeAll(async () => {
  vad = await SileroVad.load();
  slt = (await flite(TEXT, 'slt')).samples;
  rms = (await flite(TEXT, 'rms')).samples;
  const kal = await flite(TEXT, 'kal');
  kal16 = resample(kal.samples, kal.sampleRate, 16_000);
});
afterAll(async () => {
  await vad.close();
});

describe('Silero VAD speech fraction', () => {
  it('is high for flite speech and zero for white noise and silence', async () => {
    for (const s of [slt, rms, kal16]) expect((await vad.speechFraction(s)).speechFraction).toBeGreaterThan(0.65);
    expect((await vad.speechFraction(whiteNoise(3))).speechFraction).toBeLessThan(0.05);
    expect((await vad.speechFraction(silence(3))).speechFraction).toBe(0);
    expect((await vad.speechFraction(new Float32Array(100))).windows).toBe(0);
  });
});

describe('spectral distance', () => {
  it('separates another voice saying the same text from noise and silence', () => {
    expect(spectralDistance(slt, slt)).toBe(0);
    const voice = spectralDistance(slt, rms)!;
    const narrow = spectralDistance(slt, kal16)!;
    const noise = spectralDistance(slt, resample(whiteNoise(4, 24_000), 24_000, 16_000))!;
    const quiet = spectralDistance(slt, silence(4))!;
    expect(voice).toBeLessThan(0.75);
    expect(narrow).toBeLessThan(0.75);
    expect(noise).toBeGreaterThan(0.9);
    expect(quiet).toBeGreaterThan(0.9);
    expect(spectralDistance(slt, new Float32Array(10))).toBe(1);
  });
});

describe('judge pool (worker threads)', () => {
  it('judges a good pair and a noise pair off the main thread', async () => {
    const pool = new JudgePool({ threads: 1, queue: 2, asr: 'off' });
    try {
      const baseline = { bytes: await fliteWav(TEXT, 'slt'), latencyMs: 120 };
      const good = await pool.run({ text: TEXT, baseline, canary: { bytes: await fliteWav(TEXT, 'awb'), latencyMs: 130 }, asr: true });
      const noise = await pool.run({ text: TEXT, baseline, canary: { bytes: encodeWav(whiteNoise(4, 24_000), 24_000), latencyMs: 300 }, asr: true });
      expect(good.canary.speechFraction).toBeGreaterThan(0.65);
      expect(good.distance!).toBeLessThan(0.75);
      expect(good.asr).toBe('unavailable');
      expect(noise.canary.sampleRate).toBe(24_000);
      expect(noise.canary.speechFraction).toBeLessThan(0.05);
      expect(noise.distance!).toBeGreaterThan(0.9);
      expect(noise.durationRatio).toBeGreaterThan(0);
      expect(good.baseline.rtf).toBeCloseTo(0.12 / good.baseline.durationS, 3);
    } finally {
      await pool.close();
    }
  });
});

describe('pocketsphinx WER', () => {
  const asr = detectPocketsphinx();
  const hasAsr = systemPackage('pocketsphinx', () => asr.available, 'apt-get install pocketsphinx pocketsphinx-en-us');
  // pocketsphinx costs seconds of CPU per clip; on a shared machine it may take much longer.
  it.skipIf(!hasAsr)(
    'scores flite speech with a low WER and noise 1 without running the ASR',
    async () => {
      if (!asr.available) return;
      let runs = 0;
      const m = await judgePair(
        {
          text: TEXT,
          baseline: { bytes: encodeWav(slt, 16_000), latencyMs: 100 },
          canary: { bytes: encodeWav(whiteNoise(3), 16_000), latencyMs: 100 },
          asr: true,
        },
        {
          speechFraction: async (s) => (await vad.speechFraction(s)).speechFraction,
          transcribe: (s) => (runs++, transcribe(asr.binary, s, 100_000)),
        },
      );
      expect(m.asr).toBe('ok');
      expect(m.baseline.wer!).toBeLessThan(0.4);
      expect(wer(TEXT, m.baseline.transcript!)).toBeCloseTo(m.baseline.wer!, 4);
      expect(m.canary.wer).toBe(1);
      expect(runs).toBe(1);
    },
    120_000,
  );
  it('says why when it is missing', () => {
    if (!asr.available) expect(asr.reason).toMatch(/pocketsphinx/);
    else expect(asr.binary).toMatch(/pocketsphinx_continuous$/);
  });
});
