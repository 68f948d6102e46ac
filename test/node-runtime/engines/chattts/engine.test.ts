/**
 * Engine-level behaviour on the tiny pack: determinism per seed, 512 samples per generated token,
 * one speaker across sentences, cancellation within one decode step, retryable engine failures
 * that leave the engine serving, and bounded memory over 200 syntheses.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { Gpt } from '../../../../node-runtime/src/engines/chattts/gpt.ts';
import { runPipeline } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { isRuntimeError } from '../../../../node-runtime/src/errors/runtime-error.ts';
import { loadTinyEngine } from './helpers.ts';

let engine: LocalChattts;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  engine = await loadTinyEngine();
  await engine.warm();
});
afterAll(async () => {
  await engine.dispose();
});

describe('chattts engine', () => {
  it('describes itself', () => {
    const d = engine.describe();
    expect(d.kind).toBe('chattts');
    expect(d.executionProvider).toBe('cpu');
    expect(d.sampleRate).toBe(24000);
    expect(d.voices).toContain('default');
    expect(d.details?.gpu_mem_limit_applied).toBe(false);
  });

  it('gives byte-identical audio for the same seed, across engine instances', async () => {
    const req = { text: '你好，世界。今天天气很不错。', seed: 42, signal: signal() };
    const a = await engine.synthesize(req);
    const b = await engine.synthesize({ ...req, signal: signal() });
    const other = await loadTinyEngine();
    const c = await other.synthesize({ ...req, signal: signal() });
    await other.dispose();
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(b.pcm.buffer))).toBe(true);
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(c.pcm.buffer))).toBe(true);
    const d = await engine.synthesize({ ...req, seed: 43, signal: signal() });
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(d.pcm.buffer))).toBe(false);
  });

  it('produces 512 samples per generated token at 24 kHz, over several sentences', async () => {
    const r = await engine.run({ text: 'hello world. this is a test! 你好。', seed: 7, signal: signal() });
    expect(r.sampleRate).toBe(24000);
    // Upstream's split: after '. ' and after 。 only.
    expect(r.stats.sentences).toBe(2);
    expect(r.stats.tokens).toBeGreaterThan(0);
    expect(r.pcm.length).toBe(512 * r.stats.tokens);
    expect(r.pcm.some((x) => x !== 0)).toBe(true);
  });

  it('honours max/min new tokens (fixed-length generation)', async () => {
    const r = await engine.run({ text: 'hello.', seed: 3, signal: signal(), sampling: { max_new_tokens: 17, min_new_tokens: 17 } });
    expect(r.stats.tokens).toBe(17);
    expect(r.pcm.length).toBe(17 * 512);
  });

  it('uses one speaker for the whole request: voice random is seeded', async () => {
    const a = await engine.run({ text: 'hello. world.', voice: 'random', seed: 9, signal: signal() });
    const b = await engine.run({ text: 'hello. world.', voice: 'random', seed: 9, signal: signal() });
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(b.pcm.buffer))).toBe(true);
    await expect(engine.run({ text: 'hello.', voice: 'nobody', signal: signal() })).rejects.toMatchObject({ code: 'unknown_voice' });
  });

  it('refuses text with nothing speakable', async () => {
    await expect(engine.run({ text: '???', signal: signal() })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('stops within one decode step of an abort, with the abort reason', async () => {
    const ac = new AbortController();
    const reason = new Error('client went away');
    let lastStep = -1;
    let abortedAt = -1;
    const run = engine.run({
      text: 'hello world. again.',
      seed: 1,
      signal: ac.signal,
      sampling: { max_new_tokens: 80, min_new_tokens: 80 },
      onStep: ({ step }) => {
        lastStep = step;
        // Abort while step 10's session.run is in flight.
        if (step === 10)
          setImmediate(() => {
            abortedAt = step;
            ac.abort(reason);
          });
      },
    });
    await expect(run).rejects.toBe(reason);
    expect(abortedAt).toBe(10);
    expect(lastStep - abortedAt).toBeLessThanOrEqual(1);
  });

  it('turns a session failure into a retryable engine_failure, releases the KV cache, and keeps serving', async () => {
    const parts = engine.parts();
    const seen: ort.Tensor[] = [];
    let calls = 0;
    const fake = {
      inputNames: [
        'inputs_embeds',
        'attention_mask',
        'position_ids',
        ...Array.from({ length: 2 * parts.gpt.dims.layers }, (_, i) => `past_key_values.${i >> 1}.${i % 2 ? 'value' : 'key'}`),
      ],
      run: async (feeds: Record<string, ort.Tensor>) => {
        calls++;
        for (const [k, t] of Object.entries(feeds)) if (k.startsWith('past_')) seen.push(t);
        throw new Error('Failed to allocate memory for requested buffer of size 123456789');
      },
    } as unknown as ort.InferenceSession;
    const failing = { ...parts, gpt: new Gpt(fake, parts.gpt.dims) };
    const error = await runPipeline(failing, { text: 'hello.', seed: 1, signal: signal() }).catch((e: unknown) => e);
    expect(isRuntimeError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'engine_failure', status: 503, retryable: true });
    expect(calls).toBe(1);
    expect(seen.length).toBe(2 * parts.gpt.dims.layers);
    for (const t of seen) expect(t.location).toBe('none'); // disposed
    const ok = await engine.synthesize({ text: 'hello.', seed: 1, signal: signal() });
    expect(ok.pcm.length).toBeGreaterThan(0);
  });

  it('keeps memory bounded over 200 syntheses', async () => {
    // Per synthesis: KV for ~20 positions (2 layers × 2 × 4 heads × 16 × 4 B × 20 ≈ 20 KB), audio
    // (6 tokens × 512 × 6 B ≈ 18 KB as float32 + int16), hiddens, mel and spectra (~60 KB). If
    // any of these outlived its request, 180 measured requests would retain ≥ 7 MB (≥ 10 MB
    // counting the KV tensors' native side). After a forced GC we allow 4 MB of
    // external+arrayBuffer drift and 32 MB of RSS (arena, V8 code and heap growth settle in the
    // first 20 requests; over 1,000 requests RSS wanders within ±8 MB of a plateau — allocator
    // noise, not a per-request leak).
    v8.setFlagsFromString('--expose-gc');
    const rawGc = vm.runInNewContext('gc') as () => void;
    // External memory is returned by finalizers that run after a collection, on later ticks:
    // collect a few times with turns of the event loop in between before reading it.
    const gc = async () => {
      for (let k = 0; k < 3; k++) {
        rawGc();
        await new Promise((r) => setImmediate(r));
      }
    };
    const once = (i: number) => engine.run({ text: '你好，世界。', seed: i, signal: signal(), sampling: { max_new_tokens: 6 } });
    for (let i = 0; i < 20; i++) await once(i);
    await gc();
    const before = process.memoryUsage();
    for (let i = 20; i < 200; i++) await once(i);
    await gc();
    const after = process.memoryUsage();
    const ext = (m: NodeJS.MemoryUsage) => m.external + m.arrayBuffers;
    const extGrowth = ext(after) - ext(before);
    const rssGrowth = after.rss - before.rss;
    console.log(`memory over 180 syntheses: rss ${(rssGrowth / 1e6).toFixed(1)} MB, external+arrayBuffers ${(extGrowth / 1e6).toFixed(2)} MB`);
    expect(rssGrowth).toBeLessThan(32e6);
    expect(extGrowth).toBeLessThan(4e6);
  }, 180_000);
});
