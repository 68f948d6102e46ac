/**
 * The chattts pack's `manifest.parameters` and `speakers.json`, validated once at load: a pack
 * with a missing graph name or an impossible sampling default is refused before any session is
 * created (the runtime then keeps serving the previous pack).
 * @module
 */
import { z } from 'zod';

const Temperature = z.number().positive().max(10);

export const SamplingSchema = z
  .object({
    /** One value, or one per codebook (upstream accepts a list of 4). */
    temperature: z.union([Temperature, z.array(Temperature).length(4)]).default(0.3),
    /** null turns the warper off, as upstream's `top_P=None`. */
    top_p: z.number().gt(0).max(1).nullable().default(0.7),
    top_k: z.number().int().positive().nullable().default(20),
    repetition_penalty: z.number().positive().max(10).default(1.05),
    max_new_tokens: z.number().int().positive().max(4096).default(2048),
    min_new_tokens: z.number().int().nonnegative().default(0),
    /** Code-stage prompt before the text; `[speed_N]` is replaced when a request sets `speed`. */
    prompt: z.string().default('[speed_5]'),
  })
  .strict()
  .refine((s) => s.min_new_tokens <= s.max_new_tokens, 'min_new_tokens must not exceed max_new_tokens');

export type Sampling = z.infer<typeof SamplingSchema>;

/**
 * The refine-text stage (spec §4.3, §5.6): the GPT in text mode rewrites each sentence with
 * prosody tokens before the code stage. On by default, as upstream's `skip_refine_text=False`.
 */
export const RefineSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** After `[Pbreak]`, e.g. `[oral_2][laugh_0][break_6]`. */
    prompt: z.string().default(''),
    temperature: Temperature.default(0.7),
    top_p: z.number().gt(0).max(1).nullable().default(0.7),
    top_k: z.number().int().positive().nullable().default(20),
    repetition_penalty: z.number().positive().max(10).default(1),
    max_new_tokens: z.number().int().positive().max(4096).default(384),
    min_new_tokens: z.number().int().nonnegative().default(0),
  })
  .strict();

export type Refine = z.infer<typeof RefineSchema>;

/** How a sentence's audio is cut into streamed chunks (chunked-audio.ts). */
export const StreamSchema = z
  .object({
    /** Tokens in the first chunk (upstream streams every 24); 0 = one chunk per sentence. */
    chunk_tokens: z.number().int().nonnegative().max(4096).default(24),
    /** Later chunks double up to this, so re-decoded context costs less on long sentences. */
    max_chunk_tokens: z.number().int().positive().max(4096).default(96),
    /** Tokens decoded again before a chunk so its start sees the same context as one-shot. */
    left_context: z.number().int().nonnegative().max(512).default(24),
    /** Tokens that must exist after a chunk before it leaves (its end's right context). */
    lookahead: z.number().int().positive().max(512).default(12),
  })
  .strict();

export type StreamParams = z.infer<typeof StreamSchema>;

export const ChatttsParametersSchema = z
  .object({
    source: z.string().optional(),
    dims: z
      .object({
        hidden: z.number().int().positive(),
        layers: z.number().int().positive(),
        heads: z.number().int().positive(),
        head_dim: z.number().int().positive(),
        num_vq: z.literal(4),
        num_audio_tokens: z.literal(626),
        text_vocab: z.number().int().positive(),
      })
      .strict()
      .refine((d) => d.heads * d.head_dim === d.hidden, 'heads × head_dim must equal hidden')
      .refine((d) => d.hidden % 2 === 0, 'hidden must be even (two mel frames per token)'),
    graphs: z
      .object({
        gpt: z.string().min(1),
        gpt_int8: z.string().min(1).optional(),
        gpt_int4: z.string().min(1).optional(),
        /** The same GPT as onnxruntime's fused operators (export/gpt_fused.py), fp32 and int8. */
        gpt_fused: z.string().min(1).optional(),
        gpt_fused_int8: z.string().min(1).optional(),
        head_text: z.string().min(1).optional(),
        /** Log-mel → codes: the first sentence's audio as the prompt of the sentences after it. */
        dvae_encoder: z.string().min(1).optional(),
        decoder: z.string().min(1),
        vocos: z.string().min(1),
        decoder_int8: z.string().min(1).optional(),
        vocos_int8: z.string().min(1).optional(),
      })
      .strict(),
    /** Which GPT graph to run: `fp32` (reference), `int8` or `int4` (weight-quantised, faster on CPU). */
    gpt_precision: z.enum(['fp32', 'int8', 'int4']).default('fp32'),
    /**
     * `fused`: the pack's fused graph of that precision (fused operators, KV cache read in place;
     * faster on a CPU, docs/chattts.md); `exported`: torch.onnx's graph. Absent: fused on a CPU,
     * exported on CUDA (the fused graph's contrib operators have not been measured on a GPU).
     */
    gpt_graph: z.enum(['fused', 'exported']).optional(),
    /**
     * Decoder and Vocos graphs: `fp32`, or `int8` (their MatMuls weight-quantised: ~1.6× faster on
     * a CPU, waveform drift ~2% RMS on random full-size weights; docs/chattts.md).
     */
    vocoder_precision: z.enum(['fp32', 'int8']).default('fp32'),
    embeddings: z.string().min(1),
    tokenizer: z.string().min(1),
    speakers: z.string().min(1),
    default_voice: z.string().min(1),
    sampling: SamplingSchema.default(SamplingSchema.parse({})),
    refine: RefineSchema.default(RefineSchema.parse({})),
    /** Upstream's homophone map (single character → single character), written at export. */
    homophones: z.string().min(1).optional(),
    stream: StreamSchema.default(StreamSchema.parse({})),
    /**
     * Upstream's multi-sentence conditioning (`spk_smp` / `txt_smp`): every sentence after the
     * first is prompted with the first one's text and DVAE-encoded audio. Default: on when the
     * pack has `graphs.dvae_encoder`.
     */
    first_sentence_prompt: z.object({ enabled: z.boolean().optional() }).strict().default({}),
  })
  .strict()
  .refine((p) => !p.refine.enabled || p.graphs.head_text !== undefined, 'refine.enabled needs graphs.head_text (or refine.enabled false)')
  .refine((p) => p.first_sentence_prompt.enabled !== true || p.graphs.dvae_encoder !== undefined, 'first_sentence_prompt.enabled needs graphs.dvae_encoder')
  .refine((p) => p.gpt_precision !== 'int8' || p.graphs.gpt_int8 !== undefined, 'gpt_precision int8 needs graphs.gpt_int8')
  .refine(
    (p) => p.vocoder_precision !== 'int8' || (p.graphs.decoder_int8 !== undefined && p.graphs.vocos_int8 !== undefined),
    'vocoder_precision int8 needs graphs.decoder_int8 and graphs.vocos_int8',
  )
  .refine((p) => p.gpt_precision !== 'int4' || p.graphs.gpt_int4 !== undefined, 'gpt_precision int4 needs graphs.gpt_int4');

export type ChatttsParameters = z.infer<typeof ChatttsParametersSchema>;

export const SpeakersFileSchema = z
  .object({
    spk_stat: z.string().min(1),
    voices: z.record(z.string().min(1), z.string().min(1)),
  })
  .strict();

export type SpeakersFile = z.infer<typeof SpeakersFileSchema>;

/** `homophones.json`: upstream's map, one character to one character. */
export const HomophonesSchema = z.record(z.string().length(1), z.string().length(1));
