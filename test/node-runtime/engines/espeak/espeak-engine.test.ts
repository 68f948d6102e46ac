/**
 * The espeak engine on the real espeak-ng program (Debian `espeak-ng`): real streaming per
 * sentence, determinism, cancellation that kills the child, bounded children, Chinese speech
 * measured by the Silero VAD, and the clear refusal when the program is missing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../../../gateway/src/canary/audio/resample.ts';
import { SileroVad } from '../../../../gateway/src/canary/vad/silero.ts';
import type { Engine, EngineContext } from '../../../../node-runtime/src/engines/engine.ts';
import { createEspeakEngine } from '../../../../node-runtime/src/engines/espeak/espeak-engine.ts';
import { ProcessSlots } from '../../../../node-runtime/src/engines/espeak/process-slots.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { hasCommand, systemPackage } from '../../../support/system-package.ts';
import { REPO_ROOT } from '../../support/runtime-process.ts';

const espeak = systemPackage('espeak-ng', () => hasCommand('espeak-ng'), 'apt-get install -y espeak-ng');
const EXECUTION: EngineContext['execution'] = {
  providers: ['cpu'],
  deviceId: 0,
  gpuMemLimitBytes: 0,
  arenaExtendStrategy: 'kSameAsRequested',
  intraOpThreads: 1,
};

async function engineFor(pack: string, concurrency = 2): Promise<Engine> {
  const engine = createEspeakEngine({ pack: await verifyPack(path.join(REPO_ROOT, 'models', pack)), execution: EXECUTION, concurrency });
  await engine.load();
  await engine.warm();
  return engine;
}

async function collect(it: AsyncIterable<Int16Array>): Promise<Int16Array[]> {
  const out: Int16Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

const concat = (chunks: Int16Array[]) => {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
};

/** espeak-ng children of this test process. */
function childEspeaks(): number {
  const r = spawnSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() === 'espeak-ng').length;
}

describe('ProcessSlots', () => {
  it('grants at most `size` at once, in order, and drops aborted waiters', async () => {
    const slots = new ProcessSlots(1);
    const signal = new AbortController().signal;
    const first = await slots.acquire(signal);
    const order: string[] = [];
    const gone = new AbortController();
    const aborted = slots.acquire(gone.signal).then(
      () => order.push('aborted one ran'),
      () => order.push('aborted'),
    );
    const second = slots.acquire(signal).then((release) => (order.push('second'), release));
    gone.abort(new Error('left'));
    await aborted;
    expect(order).toEqual(['aborted']);
    first();
    (await second)();
    expect(order).toEqual(['aborted', 'second']);
    await expect(slots.acquire(gone.signal)).rejects.toThrow('left');
  });
});

describe.skipIf(!espeak)('espeak engine (espeak-ng program)', () => {
  let zh: Engine;
  let en: Engine;
  let vad: SileroVad;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    [zh, en, vad] = await Promise.all([engineFor('espeak-zh'), engineFor('espeak-en'), SileroVad.load()]);
  });
  afterAll(async () => {
    await Promise.all([zh?.dispose(), en?.dispose(), vad?.close()]);
  });

  it('describes itself: espeak, deterministic, 22.05 kHz, the pack voices', () => {
    expect(zh.describe()).toMatchObject({ kind: 'espeak', deterministic: true, sampleRate: 22_050, voices: ['mandarin', 'mandarin-f', 'cantonese'] });
    expect(String(zh.describe().details?.['program'])).toMatch(/eSpeak NG/);
  });

  it('streams a sentence at a time; the stream is the one-shot audio, byte for byte, every time', async () => {
    const text = '你好，欢迎使用语音合成服务。今天天气很好！我们明天见。';
    const chunks = await collect(zh.stream({ text, signal }));
    expect(chunks.length).toBe(3);
    const whole = (await zh.synthesize({ text, signal })).pcm;
    expect(Buffer.from(concat(chunks).buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    const again = (await zh.synthesize({ text, signal })).pcm;
    expect(Buffer.from(again.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
  });

  it('speaks Mandarin: mostly speech by the Silero VAD, longer for longer text, faster at speed 2', async () => {
    const short = (await zh.synthesize({ text: '你好，欢迎使用语音合成服务。', signal })).pcm;
    const long = (await zh.synthesize({ text: '你好，欢迎使用语音合成服务。今天天气很好，我们一起去公园散步吧。', signal })).pcm;
    const fast = (await zh.synthesize({ text: '你好，欢迎使用语音合成服务。', speed: 2, signal })).pcm;
    const f32 = Float32Array.from(short, (s) => s / 32768);
    const { speechFraction } = await vad.speechFraction(resample(f32, 22_050, 16_000));
    expect(speechFraction).toBeGreaterThan(0.5);
    expect(short.length / 22_050).toBeGreaterThan(1);
    expect(long.length).toBeGreaterThan(short.length * 1.5);
    expect(fast.length).toBeLessThan(short.length * 0.75);
  });

  it('reads Latin words of a Chinese text with the English voice, dropping nothing', async () => {
    const withName = (await zh.synthesize({ text: 'Please call 张伟 at the Beijing office tomorrow morning.', signal })).pcm;
    const without = (await zh.synthesize({ text: 'Please call at the Beijing office tomorrow morning.', signal })).pcm;
    expect(withName.length).toBeGreaterThan(without.length + 0.3 * 22_050);
    // The English voice reads the Latin part: the same words from the en pack take about as long.
    const english = (await en.synthesize({ text: 'Please call at the Beijing office tomorrow morning.', signal })).pcm;
    expect(without.length / english.length).toBeGreaterThan(0.7);
    expect(without.length / english.length).toBeLessThan(1.4);
  });

  it('cancels: an abort mid-stream rejects with its reason and leaves no espeak-ng child', async () => {
    const controller = new AbortController();
    const text = Array.from({ length: 30 }, (_, i) => `This is sentence number ${i + 1}, which takes a while to say.`).join(' ');
    const seen: number[] = [];
    const run = (async () => {
      for await (const c of en.stream({ text, signal: controller.signal })) {
        seen.push(c.length);
        if (seen.length === 1) controller.abort(new Error('client left'));
      }
    })();
    await expect(run).rejects.toThrow('client left');
    expect(seen.length).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(childEspeaks()).toBe(0);
  });

  it('runs at most `concurrency` espeak-ng children however many streams are open', async () => {
    const one = await engineFor('espeak-en', 1);
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, childEspeaks())), 20);
    try {
      const text = 'One sentence here. And another one.';
      const results = await Promise.all(Array.from({ length: 3 }, () => one.synthesize({ text, signal })));
      expect(new Set(results.map((r) => r.pcm.length)).size).toBe(1);
    } finally {
      clearInterval(timer);
      await one.dispose();
    }
    expect(peak).toBe(1);
  });

  it('refuses to load, naming the package, when the espeak-ng program is missing', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const engine = createEspeakEngine({ pack: await verifyPack(path.join(REPO_ROOT, 'models/espeak-zh')), execution: EXECUTION });
      await expect(engine.load()).rejects.toThrow(/espeak-ng program, which is not installed.*apt-get install -y espeak-ng/);
    } finally {
      process.env['PATH'] = saved;
    }
  });
});
