/**
 * The contract every synthesis engine honours, whatever runs underneath (flite in WebAssembly,
 * ChatTTS on onnxruntime-node, the test-only simulator).
 *
 * Lifecycle: `load()` once (sessions, weights) → `warm()` once (first inference, so the first
 * client request does not pay for lazy initialisation) → `stream()` / `synthesize()` many times,
 * concurrently up to the scheduler's slot count → `dispose()` once, after the last in-flight
 * request finished.
 *
 * `stream()` is the primary contract: it yields mono PCM16 chunks as they are made (flite: a
 * sentence at a time; ChatTTS: every few decode steps), and the whole answer is exactly their
 * concatenation. `synthesize()` is the one-shot form of the same audio.
 * @module
 */
import type { LoadedPack } from '../packs/manifest.ts';

export interface SynthesisRequest {
  text: string;
  /** A voice the pack declares; the engine's default when absent. */
  voice?: string | undefined;
  /** Playback speed multiplier, 1 = natural. */
  speed?: number | undefined;
  /** Same seed + same text + same pack → byte-identical audio, for engines that sample. */
  seed?: number | undefined;
  /** Style directions (OpenAI's `instructions`), for engines that read them; others ignore them. */
  instructions?: string | undefined;
  /** ChatTTS: run the refine-text stage (the pack's `refine.enabled` when absent); other engines ignore it. */
  refineText?: boolean | undefined;
  /** ChatTTS: prompt later sentences with the first one's text and audio (the pack's setting when absent). */
  firstSentencePrompt?: boolean | undefined;
  /**
   * Aborted when the request's deadline passes or the client disconnects. Engines check it
   * between steps (ChatTTS: decode steps; flite: sentences) and throw `signal.reason`, so a
   * cancelled request stops within one step; the scheduler already refuses expired work before
   * it starts.
   */
  signal: AbortSignal;
}

export interface SynthesisResult {
  /** Mono PCM16 samples. */
  pcm: Int16Array;
  sampleRate: number;
  /** Engine-specific counters worth logging (tokens generated, sentences…). */
  stats?: Record<string, number>;
}

export interface EngineDescription {
  kind: string;
  /** Where the compute happens: `wasm`, `cpu`, `cuda`, `simulated`. */
  executionProvider: string;
  sampleRate: number;
  voices: string[];
  /**
   * Same pack version, voice, speed, seed and execution provider → identical samples. A node can
   * then resume a broken stream elsewhere at a sample offset and splice it byte-exactly.
   */
  deterministic: boolean;
  /** Free-form engine facts an operator needs (threads, GPU memory limit…). */
  details?: Record<string, string | number | boolean>;
}

export interface Engine {
  load(): Promise<void>;
  warm(): Promise<void>;
  synthesize(request: SynthesisRequest): Promise<SynthesisResult>;
  /**
   * Mono PCM16 chunks at `describe().sampleRate`, in order, as they are made. Stopping the
   * iteration (or the request's signal) cancels the work within one step.
   */
  stream(request: SynthesisRequest): AsyncIterable<Int16Array>;
  /** Releases sessions, workers and buffers. Idempotent. */
  dispose(): Promise<void>;
  describe(): EngineDescription;
}

/** What the runtime hands an engine factory: the verified pack plus runtime-level settings. */
export interface EngineContext {
  pack: LoadedPack;
  /** Execution-provider and threading settings from the runtime config. */
  execution: ExecutionSettings;
  /** How many synthesize() calls the scheduler may run at once (its slot count). */
  concurrency?: number;
}

export interface ExecutionSettings {
  /** Ordered preference, e.g. ['cuda', 'cpu']; engines take the first one available. */
  providers: string[];
  deviceId: number;
  /** Per-process GPU memory cap in bytes (0 = no cap), so several runtimes can share a card. */
  gpuMemLimitBytes: number;
  arenaExtendStrategy: 'kNextPowerOfTwo' | 'kSameAsRequested';
  intraOpThreads: number;
}

export type EngineFactory = (context: EngineContext) => Engine;

/** The stream of an engine that can only answer whole: one chunk, the one-shot result. */
export async function* wholeAsStream(engine: Pick<Engine, 'synthesize'>, request: SynthesisRequest): AsyncGenerator<Int16Array> {
  yield (await engine.synthesize(request)).pcm;
}

/**
 * The one-shot form of a stream: its chunks concatenated. Engines whose `synthesize()` is defined
 * by their stream use it, so the two can never disagree by a sample.
 */
export async function collectStream(chunks: AsyncIterable<Int16Array>): Promise<{ pcm: Int16Array; chunks: number }> {
  const parts: Int16Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
  }
  const pcm = new Int16Array(length);
  let offset = 0;
  for (const part of parts) {
    pcm.set(part, offset);
    offset += part.length;
  }
  return { pcm, chunks: parts.length };
}

/**
 * Raised by an engine to make the runtime drop the connection without another byte, as a
 * crashed process or a reset network would: no error frame, no end frame. Only the simulator's
 * test faults raise it, so a gateway's handling of a stream that is cut mid-way can be tested
 * without killing processes.
 */
export class StreamCut extends Error {
  override readonly name = 'StreamCut';
  readonly code = 'stream_cut';
}

/** Matches on `code` so an instance from another copy of this module still matches. */
export function isStreamCut(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'stream_cut';
}
