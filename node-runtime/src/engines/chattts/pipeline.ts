/**
 * One synthesis request end to end (spec Appendix A, decoder path, batch 1 per sentence):
 * split → normalise → prompt → tokens → embeddings with the request's speaker → GPT prefill +
 * decode loop with the sampler → decoder → Vocos → iSTFT → PCM16.
 *
 * Invariants:
 * - One speaker and one seeded generator per request: a seed fixes the voice (for `random`) and
 *   every sampled code, so the same request gives byte-identical audio.
 * - Each sentence yields exactly 512 samples per generated token: the iSTFT gives 512·T − 256,
 *   and the missing half hop is appended as silence, which also separates sentences.
 * - Cancellation is checked before every GPT step (one step is the longest uninterruptible unit,
 *   since onnxruntime-node cannot stop a run that has started) and before vocoding.
 * - Upstream quirks not reproduced (spec §11.3): no `|x| > 1e-5` sample deletion, no restart on
 *   EOS at step 0 (EOS is masked at step 0 instead: ensure-non-empty), no per-step re-seeding.
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { RuntimeError } from '../../errors/runtime-error.ts';
import type { Embeddings } from './embeddings.ts';
import type { Gpt } from './gpt.ts';
import { codePrompt } from './prompt.ts';
import { createRng, type Rng } from './rng.ts';
import { CodeSampler } from './sampler.ts';
import type { Sampling } from './params.ts';
import { normalizeSpeaker, randomSpeaker, type SpeakerStats } from './speaker.ts';
import { normalizeText, splitSentences } from './text.ts';
import { SPECIAL, type ChatttsTokenizer } from './tokenizer.ts';
import type { Vocoder } from './vocoder.ts';

export const SAMPLE_RATE = 24_000;
export const SAMPLES_PER_TOKEN = 512;

export interface PipelineParts {
  tokenizer: ChatttsTokenizer;
  embeddings: Embeddings;
  gpt: Gpt;
  vocoder: Vocoder;
  voices: ReadonlyMap<string, Float32Array>;
  stats: SpeakerStats;
  defaultVoice: string;
  sampling: Sampling;
}

export interface PipelineRequest {
  text: string;
  voice?: string | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
  /** An AbortSignal, or the worker's view of the caller's (a shared flag). */
  signal: CancelSignal;
  /** Overrides of the pack's sampling defaults (benchmarks force a fixed token count). */
  sampling?: Partial<Sampling>;
  /** Called before each GPT step; tests use it to abort at a known step. */
  onStep?: (info: { sentence: number; step: number }) => void;
}

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface PipelineResult {
  pcm: Int16Array;
  sampleRate: number;
  stats: {
    sentences: number;
    tokens: number;
    prompt_tokens: number;
    gpt_ms: number;
    vocode_ms: number;
    first_audio_ms: number;
    seed: number;
  };
}

function throwIfAborted(signal: CancelSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}

function pickSpeaker(parts: PipelineParts, voice: string | undefined, rng: Rng): Float32Array {
  const name = voice ?? parts.defaultVoice;
  if (name === 'random') return normalizeSpeaker(randomSpeaker(parts.stats, rng));
  const v = parts.voices.get(name);
  if (!v) throw new RuntimeError('unknown_voice', `voice ${JSON.stringify(name)} is not in this pack`);
  return v;
}

/** Upstream float_to_int16 (spec §7.1): ×32767 when the peak is ≤ 1, else scaled by ⌈peak⌉. */
export function toPcm16(wav: Float32Array): Int16Array {
  let peak = 0;
  for (const x of wav) peak = Math.max(peak, Math.abs(x));
  const am = Math.max(1, Math.ceil(peak)) * 32768;
  const scale = Math.floor((32767 * 32768) / am);
  const out = new Int16Array(wav.length);
  for (let i = 0; i < wav.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.trunc(wav[i]! * scale)));
  return out;
}

export async function runPipeline(parts: PipelineParts, req: PipelineRequest): Promise<PipelineResult> {
  const started = performance.now();
  const sampling = { ...parts.sampling, ...req.sampling };
  const sentences = splitSentences(req.text).map((s) => normalizeText(s)).filter((s) => s.length > 0);
  if (sentences.length === 0) throw new RuntimeError('invalid_request', 'text has nothing speakable after normalisation');
  // Without a seed every request still gets a fixed seed of its own, reported in stats, so any
  // output can be reproduced.
  const seed = req.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = createRng(seed);
  const speaker = pickSpeaker(parts, req.voice, rng);
  const spkId = parts.tokenizer.id(SPECIAL.spkEmb);
  const { numVq, audioVocab } = parts.gpt.dims;
  const eos = audioVocab - 1;

  const pieces: Float32Array[] = [];
  let tokens = 0;
  let promptTokens = 0;
  let gptMs = 0;
  let vocodeMs = 0;
  let firstAudioMs = 0;
  for (const [si, sentence] of sentences.entries()) {
    throwIfAborted(req.signal);
    const ids = parts.tokenizer.encode(codePrompt(sentence, { prompt: sampling.prompt, speed: req.speed, withSpeaker: true }));
    promptTokens += ids.length;
    let embeds = parts.embeddings.text(ids, { id: spkId, vector: speaker });
    const sampler = new CodeSampler(numVq, audioVocab, eos, {
      temperature: sampling.temperature,
      topP: sampling.top_p,
      topK: sampling.top_k,
      repetitionPenalty: sampling.repetition_penalty,
      // Never an empty sentence: EOS cannot be drawn at step 0.
      minNewTokens: Math.max(1, sampling.min_new_tokens),
    }, rng);
    const hiddens: Float32Array[] = [];
    const seq = parts.gpt.begin();
    const t0 = performance.now();
    try {
      for (let step = 0; step < sampling.max_new_tokens; step++) {
        req.onStep?.({ sentence: si, step });
        throwIfAborted(req.signal);
        const out = await seq.step(embeds);
        const row = sampler.sample(out.logits, step);
        if (row.includes(eos)) break;
        sampler.accept(row);
        hiddens.push(out.hidden);
        embeds = parts.embeddings.codes(row);
        // Let timers and I/O (health checks, other requests' callbacks) in between steps.
        await yieldToLoop();
      }
    } finally {
      seq.dispose();
    }
    gptMs += performance.now() - t0;
    throwIfAborted(req.signal);
    if (hiddens.length === 0) continue;
    const t1 = performance.now();
    const { wav } = await parts.vocoder.run(hiddens);
    vocodeMs += performance.now() - t1;
    const padded = new Float32Array(hiddens.length * SAMPLES_PER_TOKEN);
    padded.set(wav);
    pieces.push(padded);
    tokens += hiddens.length;
    if (si === 0) firstAudioMs = performance.now() - started;
  }
  const all = new Float32Array(tokens * SAMPLES_PER_TOKEN);
  let off = 0;
  for (const p of pieces) {
    all.set(p, off);
    off += p.length;
  }
  return {
    pcm: toPcm16(all),
    sampleRate: SAMPLE_RATE,
    stats: {
      sentences: sentences.length,
      tokens,
      prompt_tokens: promptTokens,
      gpt_ms: Math.round(gptMs),
      vocode_ms: Math.round(vocodeMs),
      first_audio_ms: Math.round(firstAudioMs),
      seed,
    },
  };
}
