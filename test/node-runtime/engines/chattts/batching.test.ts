/**
 * Continuous batching on the tiny pack: concurrent requests share GPT forwards (several rows per
 * forward), join and leave between steps, and a request's audio does not depend on what else is in
 * the batch: alone in the batching engine it is the unbatched engine's bytes, and batched with
 * others it has the same tokens and differs by at most float rounding (a row padded to a longer
 * batch sums its softmax in another SIMD grouping: ~1e-6 in hidden states, ≤ 2 LSB of PCM here);
 * cancelling one member leaves the others decoding; equal-length vocoder windows of concurrent
 * requests share a decoder/Vocos run. fp32 graph: the int8 graph's per-tensor
 * activation quantisation spans the batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedGpt } from '../../../../node-runtime/src/engines/chattts/batched-gpt.ts';
import { createLocalChattts, type LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import type { PipelineRequest } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, loadTinyEngine, TINY_PACK } from './helpers.ts';

let single: LocalChattts;
let batched: LocalChattts;
const signal = () => new AbortController().signal;
const same = (a: Int16Array, b: Int16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
function maxDiff(a: Int16Array, b: Int16Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Fixed lengths so that members leave at different steps; the refine stage runs through the
// batch too (it is on by default).
const X: Omit<PipelineRequest, 'signal'> = { text: 'hello world. 你好，世界。', seed: 77, sampling: { max_new_tokens: 40, min_new_tokens: 40 } };
const OTHERS: Omit<PipelineRequest, 'signal'>[] = [
  { text: '今天天气很不错。', seed: 1, sampling: { max_new_tokens: 25, min_new_tokens: 25 } },
  { text: 'the quick brown fox jumps over the lazy dog.', seed: 2, sampling: { max_new_tokens: 60, min_new_tokens: 60 } },
  { text: '我们是一个测试。good morning.', seed: 3 },
];

beforeAll(async () => {
  single = await loadTinyEngine();
  batched = createLocalChattts({ pack: await verifyPack(TINY_PACK), execution: CPU, concurrency: 4 });
  await batched.load();
});
afterAll(async () => {
  await single.dispose();
  await batched.dispose();
});

describe('chattts continuous batching', () => {
  it('gives a request the same audio alone, batched with others, and unbatched', async () => {
    const gpt = batched.parts().gpt;
    expect(gpt).toBeInstanceOf(BatchedGpt);
    const stats = (gpt as BatchedGpt).stats;
    const reference = await single.run({ ...X, signal: signal() });
    const alone = await batched.run({ ...X, signal: signal() });
    const before = { ...stats };
    const [together, ...rest] = await Promise.all([X, ...OTHERS].map((r) => batched.run({ ...r, signal: signal() })));
    const forwards = stats.forwards - before.forwards;
    const rows = stats.rows - before.rows;
    console.log(
      `4 concurrent requests: ${forwards} batched forwards, mean ${(rows / forwards).toFixed(2)} rows, ${stats.rebuilds - before.rebuilds} KV rebuilds`,
    );
    expect(rows / forwards).toBeGreaterThan(1.5);
    expect(same(alone.pcm, reference.pcm)).toBe(true);
    const diffs = [maxDiff(together!.pcm, reference.pcm)];
    // The others, too, match their own solo runs on the unbatched engine.
    for (const [i, r] of OTHERS.entries()) {
      const solo = await single.run({ ...r, signal: signal() });
      expect(rest[i]!.stats.tokens, `request ${i}`).toBe(solo.stats.tokens);
      diffs.push(maxDiff(rest[i]!.pcm, solo.pcm));
    }
    console.log(`batched vs solo, max PCM difference per request (LSB): ${diffs.join(', ')}`);
    for (const d of diffs) expect(d).toBeLessThanOrEqual(2);
    expect(stats.active).toBe(0);
  });

  it('keeps the other members decoding when one is cancelled mid-batch', async () => {
    const ac = new AbortController();
    const reason = new Error('gone');
    const victim = batched.run({
      ...OTHERS[1]!,
      signal: ac.signal,
      onStep: ({ step }) => {
        if (step === 10) ac.abort(reason);
      },
    });
    const survivor = batched.run({ ...X, signal: signal() });
    await expect(victim).rejects.toBe(reason);
    const r = await survivor;
    const reference = await single.run({ ...X, signal: signal() });
    expect(maxDiff(r.pcm, reference.pcm)).toBeLessThanOrEqual(2);
    expect((batched.parts().gpt as BatchedGpt).stats.active).toBe(0);
  });

  it('bounds a forward at the batch size, and vocodes equal windows of concurrent requests together', async () => {
    const gpt = batched.parts().gpt as BatchedGpt;
    const vocoder = batched.parts().vocoder;
    const before = { ...gpt.stats };
    const vBefore = { ...vocoder.stats };
    const reqs = Array.from({ length: 6 }, (_, i) => ({
      text: 'hello world.',
      seed: 100 + i,
      refineText: false,
      sampling: { max_new_tokens: 20, min_new_tokens: 20 },
    }));
    const out = await Promise.all(reqs.map((r) => batched.run({ ...r, signal: signal() })));
    expect(out.every((o) => o.stats.tokens === 20)).toBe(true);
    const forwards = gpt.stats.forwards - before.forwards;
    const rows = gpt.stats.rows - before.rows;
    // 6 × 19 decode steps (the first token comes from the prefill) in forwards of at most 4 rows.
    expect(rows).toBe(6 * 19);
    expect(forwards).toBeGreaterThanOrEqual(Math.ceil((6 * 19) / 4));
    // Same text and length: their windows have equal lengths and share decoder/Vocos runs, and
    // each still gets the audio of its own batch-1 decode.
    const runs = vocoder.stats.runs - vBefore.runs;
    const items = vocoder.stats.items - vBefore.items;
    console.log(`6 equal requests: ${items} vocoder windows in ${runs} runs`);
    expect(items).toBe(6);
    expect(runs).toBeLessThan(items);
    const solo = await single.run({ ...reqs[0]!, signal: signal() });
    expect(maxDiff(out[0]!.pcm, solo.pcm)).toBeLessThanOrEqual(2);
  });
});
