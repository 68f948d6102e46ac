/**
 * Upstream's multi-sentence conditioning in the pipeline (the tiny pack has `dvae_encoder.onnx`):
 * sentences after the first are prompted with the first one's refined text and DVAE-encoded audio;
 * the first sentence is unchanged and streams before the encoder runs; the whole thing is
 * reproducible from the request; off per request and per pack. Stage-exact parity with upstream is
 * upstream-golden.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { ChatttsParametersSchema } from '../../../../node-runtime/src/engines/chattts/params.ts';
import { runPipeline, streamPipeline, type PipelineTrace } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { loadTinyEngine, TINY_PACK } from './helpers.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const TEXT = '你好，世界。今天天气很不错。hello world, this is a test.';

let engine: LocalChattts;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(async () => {
  await engine?.dispose();
});

async function traced(extra: { firstSentencePrompt?: boolean } = {}, parts = engine.parts()) {
  const trace: PipelineTrace = { sentences: [] };
  const r = await runPipeline(parts, { text: TEXT, seed: 3, trace, signal: new AbortController().signal, ...extra });
  return { r, trace };
}

describe('first-sentence audio prompt', () => {
  it('conditions the later sentences on the first, leaves the first as it is, and is reproducible', async () => {
    const on = await traced();
    const again = await traced();
    const off = await traced({ firstSentencePrompt: false });
    expect(engine.describe().details?.first_sentence_prompt).toBe(true);
    expect(on.trace.sentences).toHaveLength(3);
    const prompt = on.trace.audioPrompt!;
    // One code row per token of the first sentence, 4 codes each, all FSQ indices.
    expect(prompt.codes).toHaveLength(on.trace.sentences[0]!.codes.length);
    expect(prompt.codes.flat().every((c) => Number.isInteger(c) && c >= 0 && c < 625)).toBe(true);
    expect(prompt.text).toBe(on.trace.sentences[0]!.refined);
    expect(off.trace.audioPrompt).toBeUndefined();
    expect(on.trace.sentences[0]!.codes).toEqual(off.trace.sentences[0]!.codes);
    expect(on.trace.sentences[1]!.codes).not.toEqual(off.trace.sentences[1]!.codes);
    expect(on.r.stats.prompt_tokens).toBeGreaterThan(off.r.stats.prompt_tokens + 2 * prompt.codes.length);
    expect(Buffer.from(on.r.pcm.buffer).equals(Buffer.from(again.r.pcm.buffer))).toBe(true);
    expect(again.trace.audioPrompt).toEqual(prompt);
    // The pack switch: off for every request unless a request turns it on.
    const packOff = await traced({}, { ...engine.parts(), firstSentencePrompt: false });
    expect(packOff.trace.audioPrompt).toBeUndefined();
    expect(Buffer.from(packOff.r.pcm.buffer).equals(Buffer.from(off.r.pcm.buffer))).toBe(true);
    // A single sentence is never conditioned (upstream conditions only a split text).
    const one: PipelineTrace = { sentences: [] };
    await runPipeline(engine.parts(), { text: 'hello world.', seed: 3, trace: one, signal: new AbortController().signal });
    expect(one.audioPrompt).toBeUndefined();
  });

  it('streams the first sentence before the encoder and the second sentence run', async () => {
    let current = 0;
    const trace: PipelineTrace = { sentences: [] };
    const it = streamPipeline(engine.parts(), {
      text: TEXT,
      seed: 3,
      trace,
      signal: new AbortController().signal,
      stream: { chunkTokens: 8 },
      onStep: ({ sentence }) => {
        current = sentence;
      },
    });
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(current).toBe(0);
    expect(trace.sentences).toHaveLength(1);
    expect(trace.audioPrompt).toBeUndefined();
    await it.return(undefined as never);
  });

  it('refuses first_sentence_prompt.enabled in a pack without dvae_encoder', () => {
    const manifest = JSON.parse(readFileSync(path.join(TINY_PACK, 'manifest.json'), 'utf8')) as { parameters: { graphs: Record<string, string> } };
    const params = structuredClone(manifest.parameters);
    delete params.graphs.dvae_encoder;
    expect(ChatttsParametersSchema.safeParse(params).success).toBe(true);
    const r = ChatttsParametersSchema.safeParse({ ...params, first_sentence_prompt: { enabled: true } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('dvae_encoder');
  });
});
