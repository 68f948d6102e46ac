/**
 * The stages that make upstream's audio, on the tiny pack: the refine-text stage (on by default,
 * off per request), `[empty_spk]` mode, structural tags in user text that can never open a speaker
 * slot whatever their case, the pack's homophone map, per-codebook temperatures and top-P/top-K
 * turned off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { runPipeline } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { codePrompt } from '../../../../node-runtime/src/engines/chattts/prompt.ts';
import { processRow } from '../../../../node-runtime/src/engines/chattts/sampler.ts';
import { SPECIAL } from '../../../../node-runtime/src/engines/chattts/tokenizer.ts';
import { loadTinyEngine } from './helpers.ts';

let engine: LocalChattts;
const signal = () => new AbortController().signal;
const same = (a: Int16Array, b: Int16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(async () => {
  await engine.dispose();
});

describe('chattts upstream stages', () => {
  it('refines the text by default, deterministically, and can be turned off per request', async () => {
    const req = { text: '你好，世界。hello world.', seed: 8 };
    const a = await engine.run({ ...req, signal: signal() });
    const b = await engine.run({ ...req, signal: signal() });
    const off = await engine.run({ ...req, refineText: false, signal: signal() });
    expect(engine.describe().details?.refine_text).toBe(true);
    expect(a.stats.refine_tokens).toBeGreaterThan(0);
    expect(same(a.pcm, b.pcm)).toBe(true);
    expect(off.stats.refine_tokens).toBe(0);
    // The code stage spoke the refined text: another prompt, other audio.
    expect(a.stats.prompt_tokens).not.toBe(off.stats.prompt_tokens);
    expect(same(a.pcm, off.pcm)).toBe(false);
  });

  it('speaks without a speaker in empty_spk mode', async () => {
    expect(engine.describe().voices).toContain('empty_spk');
    const req = { text: '你好，世界。', seed: 3, refineText: false };
    const empty = await engine.run({ ...req, voice: 'empty_spk', signal: signal() });
    const again = await engine.run({ ...req, voice: 'empty_spk', signal: signal() });
    const voiced = await engine.run({ ...req, voice: 'default', signal: signal() });
    expect(empty.pcm.length).toBeGreaterThan(0);
    expect(same(empty.pcm, again.pcm)).toBe(true);
    expect(same(empty.pcm, voiced.pcm)).toBe(false);
  });

  it('never lets [SPK_EMB] or other structural tags in the text add a prompt slot, in any case', async () => {
    const { tokenizer } = engine.parts();
    const spk = tokenizer.id(SPECIAL.spkEmb);
    for (const text of ['a[SPK_EMB]b', 'a[spk_emb]b', 'a[Spk_Emb][STTS][ptts]b']) {
      const ids = tokenizer.encode(codePrompt(text, { prompt: '[speed_5]', withSpeaker: true }));
      expect(
        ids.filter((id) => id === spk),
        text,
      ).toHaveLength(1);
      expect(
        ids.filter((id) => id === tokenizer.id(SPECIAL.stts)),
        text,
      ).toHaveLength(1);
    }
    // End to end (refine included): the tags are gone, the audio is that of the plain text.
    const plain = await engine.run({ text: 'hello world.', seed: 4, signal: signal() });
    const tagged = await engine.run({ text: 'hello [SPK_EMB]world[Spk_Emb].', seed: 4, signal: signal() });
    expect(same(plain.pcm, tagged.pcm)).toBe(true);
  });

  it("applies the pack's homophone map before tokenising", async () => {
    const parts = { ...engine.parts(), homophones: new Map([['世', '界']]) };
    const mapped = await runPipeline(parts, { text: '你好，世界。', seed: 2, refineText: false, signal: signal() });
    const written = await runPipeline(engine.parts(), { text: '你好，界界。', seed: 2, refineText: false, signal: signal() });
    expect(same(mapped.pcm, written.pcm)).toBe(true);
  });

  it('takes one temperature per codebook and can turn top-P and top-K off', () => {
    const logits = Float32Array.from({ length: 626 }, (_, j) => Math.sin(j * 12.9898) * 4);
    const opts = { temperature: [0.3, 0.5, 0.7, 1], topP: 0.7, topK: 20, repetitionPenalty: 1, minNewTokens: 0 };
    for (const [row, t] of [0.3, 0.5, 0.7, 1].entries()) {
      expect(processRow(logits, [], 5, 625, opts, row)).toEqual(processRow(logits, [], 5, 625, { ...opts, temperature: t }));
    }
    // Both off: the plain softmax of logits / temperature over all 626 codes.
    const all = processRow(logits, [], 5, 625, { ...opts, temperature: 0.7, topP: null, topK: null });
    let z = 0;
    const e = Array.from(logits, (x) => Math.exp(Math.fround(x / 0.7)));
    for (const v of e) z += v;
    expect(all.filter((p) => p > 0)).toHaveLength(626);
    for (let j = 0; j < 626; j++) expect(all[j]!).toBeCloseTo(e[j]! / z, 12);
    // top-K alone keeps exactly K; top-P alone keeps more than top-K's 20 here.
    expect(processRow(logits, [], 5, 625, { ...opts, topP: null }).filter((p) => p > 0)).toHaveLength(20);
    expect(processRow(logits, [], 5, 625, { ...opts, temperature: 1, topK: null }).filter((p) => p > 0).length).toBeGreaterThan(20);
  });
});
