/**
 * The refine-text stage (spec §4.3, §5.5 text mode): the GPT reads `[Sbreak]{text}[Pbreak]{prompt}`
 * and writes text tokens through `head_text.onnx` until `[Ebreak]`; the ids below `[break_0]` (words
 * and the word-level tokens `[uv_break]`, `[laugh]`, `[lbreak]`…) are decoded back to a string, which
 * the code stage speaks instead of the input (normalisation is not run again, as upstream).
 *
 * Differences from upstream, kept for a service: the same per-request generator as the code stage
 * draws every token (no per-step re-seeding), EOS is masked at step 0 instead of restarting the
 * whole generation, and a refinement that keeps nothing falls back to the input sentence instead of
 * speaking an empty prompt.
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import * as ort from 'onnxruntime-node';
import type { Embeddings } from './embeddings.ts';
import { engineFailure } from './failure.ts';
import type { GptStage } from './batched-gpt.ts';
import type { Refine } from './params.ts';
import { refinePrompt } from './prompt.ts';
import type { Rng } from './rng.ts';
import { CodeSampler } from './sampler.ts';
import { SPECIAL, type ChatttsTokenizer } from './tokenizer.ts';

/** `head_text.onnx`: final-normed hidden (1,H) → text logits (1,V). */
export class HeadText {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly hidden: number,
  ) {}

  async logits(h: Float32Array): Promise<Float32Array> {
    const input = new ort.Tensor('float32', h, [1, this.hidden]);
    try {
      const out = (await this.session.run({ hidden: input })).logits_text as ort.Tensor;
      const data = new Float32Array(out.data as Float32Array);
      out.dispose();
      return data;
    } catch (error) {
      throw engineFailure('head_text', error);
    } finally {
      input.dispose();
    }
  }
}

export interface RefineParts {
  tokenizer: ChatttsTokenizer;
  embeddings: Embeddings;
  gpt: GptStage;
  headText: HeadText;
}

export interface RefineOutcome {
  text: string;
  /** Tokens the GPT generated (EOS excluded), before filtering. */
  tokens: number;
  ids: number[];
}

/**
 * @example
 * const { text } = await refineText(parts, '你好。', params.refine, rng, () => signal.aborted && abort());
 */
export async function refineText(parts: RefineParts, text: string, params: Refine, rng: Rng, beforeStep: () => void): Promise<RefineOutcome> {
  const { tokenizer, embeddings, gpt, headText } = parts;
  const eos = tokenizer.id(SPECIAL.ebreak);
  const firstControl = tokenizer.id(SPECIAL.break0);
  let embeds = embeddings.text(tokenizer.encode(refinePrompt(text, params.prompt)));
  const generated: number[] = [];
  let sampler: CodeSampler | undefined;
  const seq = gpt.begin();
  try {
    for (let step = 0; step < params.max_new_tokens; step++) {
      beforeStep();
      const out = await seq.step(embeds);
      const logits = await headText.logits(out.hidden);
      sampler ??= new CodeSampler(
        1,
        logits.length,
        eos,
        {
          temperature: params.temperature,
          topP: params.top_p,
          topK: params.top_k,
          repetitionPenalty: params.repetition_penalty,
          minNewTokens: Math.max(1, params.min_new_tokens),
        },
        rng,
      );
      const [id] = sampler.sample(logits, step) as [number];
      if (id === eos) break;
      sampler.accept([id]);
      generated.push(id);
      embeds = embeddings.text([id]);
      await yieldToLoop();
    }
  } finally {
    seq.dispose();
  }
  const kept = generated.filter((id) => id < firstControl);
  const refined = kept.length > 0 ? tokenizer.decode(kept).trim() : '';
  return { text: refined.length > 0 ? refined : text, tokens: generated.length, ids: generated };
}
