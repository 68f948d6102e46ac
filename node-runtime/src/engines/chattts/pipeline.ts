/**
 * One synthesis request end to end (spec Appendix A, decoder path, batch 1 per sentence):
 * split → normalise → refine text (on by default) → prompt → tokens → embeddings with the
 * request's speaker → GPT prefill + decode loop with the sampler → decoder → Vocos → iSTFT → PCM16.
 *
 * Invariants:
 * - One speaker and one seeded generator per request: a seed fixes the voice (for `random`) and
 *   every sampled code, so the same request gives byte-identical audio.
 * - Each sentence yields exactly 512 samples per generated token: the iSTFT gives 512·T − 256,
 *   and the missing half hop is appended as silence, which also separates sentences.
 * - Streaming: a sentence's audio leaves in chunks every few decode steps (chunked-audio.ts);
 *   `runPipeline` is the concatenation of `streamPipeline`, so one-shot and streamed answers are
 *   the same bytes.
 * - Cancellation is checked before every GPT step (one step is the longest uninterruptible unit,
 *   since onnxruntime-node cannot stop a run that has started) and before vocoding.
 * - Upstream quirks not reproduced (spec §11.3): no `|x| > 1e-5` sample deletion, no restart on
 *   EOS at step 0 (EOS is masked at step 0 instead: ensure-non-empty), no per-step re-seeding.
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { RuntimeError } from '../../errors/runtime-error.ts';
import { ChunkedAudio, SAMPLES_PER_TOKEN, type StreamShape } from './chunked-audio.ts';
import type { DvaeEncoder } from './dvae-encoder.ts';
import type { Embeddings } from './embeddings.ts';
import type { GptStage } from './batched-gpt.ts';
import { codePrompt, stripStructural } from './prompt.ts';
import { createRng, type Rng } from './rng.ts';
import { CodeSampler } from './sampler.ts';
import type { Refine, Sampling } from './params.ts';
import { refineText, type HeadText } from './refine.ts';
import { normalizeSpeaker, randomSpeaker, type SpeakerStats } from './speaker.ts';
import { normalizeText, splitSentences } from './text.ts';
import { SPECIAL, type ChatttsTokenizer } from './tokenizer.ts';
import type { Vocoder } from './vocoder.ts';

export const SAMPLE_RATE = 24_000;
export { SAMPLES_PER_TOKEN };

export interface PipelineParts {
  tokenizer: ChatttsTokenizer;
  embeddings: Embeddings;
  gpt: GptStage;
  vocoder: Vocoder;
  voices: ReadonlyMap<string, Float32Array>;
  stats: SpeakerStats;
  defaultVoice: string;
  sampling: Sampling;
  stream: StreamShape;
  refine: Refine;
  /** Present when the pack has `head_text.onnx`. */
  headText?: HeadText | undefined;
  /** Present when the pack has `dvae_encoder.onnx`. */
  dvaeEncoder?: DvaeEncoder | undefined;
  /** The pack's default for conditioning later sentences on the first (upstream's spk_smp/txt_smp). */
  firstSentencePrompt?: boolean | undefined;
  homophones?: ReadonlyMap<string, string> | undefined;
}

/** The voice name that speaks with `[empty_spk]`: no speaker vector (spec §4.3). */
export const EMPTY_SPEAKER_VOICE = 'empty_spk';

export interface PipelineRequest {
  text: string;
  voice?: string | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
  /** An AbortSignal, or the worker's view of the caller's (a shared flag). */
  signal: CancelSignal;
  /** Overrides of the pack's sampling defaults (benchmarks force a fixed token count). */
  sampling?: Partial<Sampling>;
  /** Run the refine-text stage; the pack's `refine.enabled` when absent. */
  refineText?: boolean | undefined;
  /**
   * Prompt every sentence after the first with the first one's text and DVAE-encoded audio, as
   * upstream does for a split text; the pack's `first_sentence_prompt` when absent.
   */
  firstSentencePrompt?: boolean | undefined;
  /** Overrides of the pack's refine-stage parameters. */
  refine?: Partial<Refine>;
  /** Overrides of the pack's streaming shape (tests and the bench measure the seam). */
  stream?: Partial<StreamShape>;
  /** Test hook: the random draws of one stage of one sentence (golden vectors force upstream's). */
  draws?: (stage: 'refine' | 'code', sentence: number) => Rng;
  /** Test and bench hook: filled with what each stage of each sentence produced. */
  trace?: PipelineTrace;
  /** Called before each GPT step; tests use it to abort at a known step. */
  onStep?: (info: { sentence: number; step: number }) => void;
}

export interface PipelineTrace {
  sentences: Array<{ text: string; refineIds: number[]; refined: string; codes: number[][]; hiddens: Float32Array[] }>;
  /** The first sentence's audio prompt, when later sentences were conditioned on it. */
  audioPrompt?: { text: string; codes: number[][] };
}

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface PipelineResult {
  pcm: Int16Array;
  sampleRate: number;
  stats: PipelineStats;
}

function throwIfAborted(signal: CancelSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}

function pickSpeaker(parts: PipelineParts, voice: string | undefined, rng: Rng): Float32Array | undefined {
  const name = voice ?? parts.defaultVoice;
  if (name === EMPTY_SPEAKER_VOICE) return undefined;
  if (name === 'random') return normalizeSpeaker(randomSpeaker(parts.stats, rng));
  const v = parts.voices.get(name);
  if (!v) throw new RuntimeError('unknown_voice', `voice ${JSON.stringify(name)} is not in this pack`);
  return v;
}

/**
 * Float → PCM16 per sample: ×32767 truncated, as upstream's float_to_int16 does whenever the peak
 * is ≤ 1 (spec §7.1), and clipped beyond ±1. Upstream instead divides a louder clip (or chunk, when
 * streaming) by ⌈peak⌉; that needs the whole signal before the first sample and changes the level
 * from one streamed chunk to the next, so a chunk-local rule is used.
 */
export function toPcm16(wav: Float32Array): Int16Array {
  const out = new Int16Array(wav.length);
  for (let i = 0; i < wav.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.trunc(wav[i]! * 32767)));
  return out;
}

export type PipelineStats = {
  sentences: number;
  tokens: number;
  prompt_tokens: number;
  /** Text tokens the refine stage generated (0 when it is off). */
  refine_tokens: number;
  refine_ms: number;
  gpt_ms: number;
  vocode_ms: number;
  /** Milliseconds from the start of the request to its first audio chunk. */
  first_audio_ms: number;
  chunks: number;
  seed: number;
  /** Milliseconds in the DVAE encoder (mel + graph) for the first-sentence prompt, when used. */
  encode_ms?: number;
};

/**
 * The request's audio as PCM16 chunks, in order, as decoding produces them; returns the stats.
 * Concatenating the chunks gives exactly `runPipeline`'s audio.
 */
export async function* streamPipeline(parts: PipelineParts, req: PipelineRequest): AsyncGenerator<Int16Array, PipelineStats> {
  const started = performance.now();
  const sampling = { ...parts.sampling, ...req.sampling };
  const shape = { ...parts.stream, ...req.stream };
  const refine = { ...parts.refine, ...req.refine };
  const refining = req.refineText ?? refine.enabled;
  if (refining && !parts.headText) throw new RuntimeError('invalid_request', 'this pack has no refine-text stage (head_text graph)');
  const sentences = splitSentences(req.text)
    .map((s) => stripStructural(normalizeText(s, { homophones: parts.homophones })).trim())
    .filter((s) => s.length > 0);
  if (sentences.length === 0) throw new RuntimeError('invalid_request', 'text has nothing speakable after normalisation');
  const conditioning = (req.firstSentencePrompt ?? parts.firstSentencePrompt ?? false) && sentences.length > 1;
  if (conditioning && !parts.dvaeEncoder)
    throw new RuntimeError('invalid_request', 'this pack has no DVAE encoder (dvae_encoder graph) for a first-sentence prompt');
  // The first sentence's text and codes once it is made (upstream's txt_smp / spk_smp).
  let audioPrompt: { text: string; rows: number[][] } | undefined;
  // Without a seed every request still gets a fixed seed of its own, reported in stats, so any
  // output can be reproduced.
  const seed = req.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = createRng(seed);
  const speaker = pickSpeaker(parts, req.voice, rng);
  const spkId = parts.tokenizer.id(SPECIAL.spkEmb);
  const { numVq, audioVocab } = parts.gpt.dims;
  const eos = audioVocab - 1;

  const stats: PipelineStats = {
    sentences: sentences.length,
    tokens: 0,
    prompt_tokens: 0,
    refine_tokens: 0,
    refine_ms: 0,
    gpt_ms: 0,
    vocode_ms: 0,
    first_audio_ms: 0,
    chunks: 0,
    seed,
  };
  const emit = (wav: Float32Array): Int16Array => {
    if (stats.chunks === 0) stats.first_audio_ms = Math.round(performance.now() - started);
    stats.chunks++;
    return toPcm16(wav);
  };
  for (const [si, normalised] of sentences.entries()) {
    throwIfAborted(req.signal);
    let sentence = normalised;
    const traced = req.trace
      ? { text: normalised, refineIds: [] as number[], refined: normalised, codes: [] as number[][], hiddens: [] as Float32Array[] }
      : undefined;
    if (traced) req.trace!.sentences.push(traced);
    if (refining) {
      const t0 = performance.now();
      const r = await refineText({ ...parts, headText: parts.headText! }, normalised, refine, req.draws?.('refine', si) ?? rng, () =>
        throwIfAborted(req.signal),
      );
      stats.refine_ms += performance.now() - t0;
      stats.refine_tokens += r.tokens;
      sentence = r.text;
      if (traced) {
        traced.refineIds = r.ids;
        traced.refined = r.text;
      }
    }
    const ids = parts.tokenizer.encode(
      codePrompt(sentence, { prompt: sampling.prompt, speed: req.speed, withSpeaker: speaker !== undefined, textSample: audioPrompt?.text }),
    );
    stats.prompt_tokens += ids.length + (audioPrompt?.rows.length ?? 0);
    let embeds = parts.embeddings.text(ids, speaker ? { id: spkId, vector: speaker } : undefined);
    if (audioPrompt) embeds = withAudioPrompt(parts, embeds, audioPrompt.rows);
    // The first sentence streams as it is made; its float samples are kept for the encoder.
    const firstAudio: Float32Array[] | undefined = conditioning && si === 0 ? [] : undefined;
    const sampler = new CodeSampler(
      numVq,
      audioVocab,
      eos,
      {
        temperature: sampling.temperature,
        topP: sampling.top_p,
        topK: sampling.top_k,
        repetitionPenalty: sampling.repetition_penalty,
        // Never an empty sentence: EOS cannot be drawn at step 0.
        minNewTokens: Math.max(1, sampling.min_new_tokens),
      },
      req.draws?.('code', si) ?? rng,
    );
    const audio = new ChunkedAudio(parts.vocoder, shape);
    const seq = parts.gpt.begin();
    try {
      for (let step = 0; step < sampling.max_new_tokens; step++) {
        req.onStep?.({ sentence: si, step });
        throwIfAborted(req.signal);
        const t0 = performance.now();
        const out = await seq.step(embeds);
        const row = sampler.sample(out.logits, step);
        stats.gpt_ms += performance.now() - t0;
        if (row.includes(eos)) break;
        sampler.accept(row);
        audio.push(out.hidden);
        traced?.codes.push(row);
        traced?.hiddens.push(out.hidden);
        embeds = parts.embeddings.codes(row);
        const chunk = await audio.ready();
        if (chunk) {
          firstAudio?.push(chunk);
          yield emit(chunk);
        }
        // Let timers and I/O (health checks, other requests' callbacks) in between steps.
        await yieldToLoop();
      }
    } finally {
      seq.dispose();
    }
    throwIfAborted(req.signal);
    const rest = await audio.finish();
    stats.tokens += audio.tokens;
    stats.vocode_ms += audio.vocodeMs;
    if (rest.length > 0) {
      firstAudio?.push(rest);
      yield emit(rest);
    }
    if (firstAudio) {
      const t0 = performance.now();
      // Upstream encodes the sentence's waveform without the half hop of padding that ends it here.
      const wav = concatFloat(firstAudio, SAMPLES_PER_TOKEN * audio.tokens - SAMPLES_PER_TOKEN / 2);
      audioPrompt = { text: sentence, rows: await parts.dvaeEncoder!.encode(wav) };
      stats.encode_ms = Math.round(performance.now() - t0);
      if (req.trace) req.trace.audioPrompt = { text: audioPrompt.text, codes: audioPrompt.rows };
    }
  }
  stats.gpt_ms = Math.round(stats.gpt_ms);
  stats.refine_ms = Math.round(stats.refine_ms);
  stats.vocode_ms = Math.round(stats.vocode_ms);
  return stats;
}

/** The whole request at once: the concatenation of `streamPipeline`'s chunks. */
export async function runPipeline(parts: PipelineParts, req: PipelineRequest): Promise<PipelineResult> {
  const chunks: Int16Array[] = [];
  const it = streamPipeline(parts, req);
  let r = await it.next();
  while (!r.done) {
    chunks.push(r.value);
    r = await it.next();
  }
  let n = 0;
  for (const c of chunks) n += c.length;
  const pcm = new Int16Array(n);
  let off = 0;
  for (const c of chunks) {
    pcm.set(c, off);
    off += c.length;
  }
  return { pcm, sampleRate: SAMPLE_RATE, stats: r.value };
}

/** The prompt's embeddings followed by one audio position per code row (upstream's spk_smp after `[Ptts]`). */
function withAudioPrompt(parts: PipelineParts, text: Float32Array, rows: number[][]): Float32Array {
  const h = parts.embeddings.hidden;
  const out = new Float32Array(text.length + rows.length * h);
  out.set(text);
  rows.forEach((row, i) => out.set(parts.embeddings.codes(row), text.length + i * h));
  return out;
}

/** The first `length` samples of the chunks, in order. */
function concatFloat(chunks: Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let off = 0;
  for (const c of chunks) {
    if (off >= length) break;
    const part = c.subarray(0, Math.min(c.length, length - off));
    out.set(part, off);
    off += part.length;
  }
  return out;
}
