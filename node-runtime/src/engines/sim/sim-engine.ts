/**
 * The simulator engine — FOR TESTS AND BENCHMARKS ONLY. It produces a synthetic tone (valid
 * PCM16) after a delay drawn from the pack's real-time factor, so load, scale and chaos scenarios
 * measure the gateway and the scheduler instead of a model's CPU use on a GPU-less machine (the
 * approach of llm-d's inference simulator).
 *
 * It is never a default: it serves only packs whose manifest says `"engine": "sim"`, and those
 * live under `test/fixtures/models/`, never in `models/`. It announces itself wherever it
 * appears: `describe().executionProvider` is `simulated`, and loading logs a warning.
 * @module
 */
import { pino } from 'pino';
import { collectStream, StreamCut, type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import { abortableDelay } from './abortable-delay.ts';
import { parseSimParameters, type SimParameters } from './sim-parameters.ts';
import { hashText, synthesizeTone } from './synthetic-audio.ts';
import { createFaultHooks, leakedByteCount, SimulatedEngineFailure, type FaultHooks } from './test-faults.ts';

const DEFAULT_SAMPLE_RATE = 16_000;

/** A zero-length pause skips the timer: a zero-rtf pack streams without a tick per chunk. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) return abortableDelay(ms, signal);
  return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
}

export interface SimEngineOptions {
  /** Uniform [0, 1) source for jitter and fault draws; tests pass a fixed one. */
  random?: () => number;
  /** Where the load-time warning goes; defaults to a pino logger on stdout like the runtime's. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

/**
 * @example
 * const engine = createSimEngine({ pack, execution });   // pack.manifest.engine === 'sim'
 * await engine.load(); await engine.warm();
 * const { pcm } = await engine.synthesize({ text: 'Hello.', signal });   // after ≈ rtf × audio time
 */
export function createSimEngine(context: EngineContext, options: SimEngineOptions = {}): Engine {
  const { pack } = context;
  const random = options.random ?? Math.random;
  const sampleRate = pack.manifest.sample_rate ?? DEFAULT_SAMPLE_RATE;
  let params: SimParameters | undefined;
  let faults: FaultHooks | undefined;
  let served = 0;

  function voiceShift(voice: string | undefined): number {
    const index = Math.max(0, pack.manifest.voices.indexOf(voice ?? pack.manifest.voices[0]!));
    return 1 + index * 0.25;
  }

  return {
    async load() {
      params = parseSimParameters(pack.manifest.parameters);
      faults = createFaultHooks(params.test_faults, random);
      const warn = options.warn ?? ((fields, message) => pino({ base: { engine: 'sim' } }).warn(fields, message));
      warn(
        { pack: pack.manifest.name, version: pack.manifest.version, rtf: params.rtf, test_faults: faults.active ? params.test_faults : undefined },
        'simulated engine loaded: synthetic audio for tests and benchmarks only, not a model',
      );
    },

    async warm() {
      // Nothing to compile or page in; a zero-budget call still proves the pack parameters work.
      synthesizeTone({ durationMs: 10, sampleRate, baseHz: params?.tone_hz ?? 220, seed: 0 });
    },

    async synthesize(request: SynthesisRequest): Promise<SynthesisResult> {
      const { pcm, chunks } = await collectStream(this.stream(request));
      return { pcm, sampleRate, stats: { samples: pcm.length, chunks } };
    },

    /**
     * The whole clip is a pure function of (text, voice, speed, seed), computed up front and
     * handed out `chunk_ms` at a time, each chunk after its share of the simulated compute: any
     * chunking of the same request gives the same samples, so offsets and splices are exact.
     */
    async *stream(request: SynthesisRequest): AsyncGenerator<Int16Array> {
      if (!params || !faults) throw new Error('sim engine used before load()');
      const speed = request.speed ?? 1;
      const audioMs = Math.min(params.max_audio_ms, Math.max(params.min_audio_ms, (params.ms_per_char * request.text.length) / speed));
      const spread = 1 + params.jitter * (2 * random() - 1);
      const plan = faults.planStream();
      const seed = (hashText(request.text) ^ (request.seed ?? 0)) >>> 0;
      const pcm = synthesizeTone({ durationMs: audioMs, sampleRate, baseHz: params.tone_hz * voiceShift(request.voice), seed });
      const chunkSamples = Math.max(1, Math.round((params.chunk_ms / 1000) * sampleRate));
      const msPerSample = 1000 / sampleRate;

      await pause(params.base_ms * spread, request.signal);
      for (let offset = 0; offset < pcm.length; offset += chunkSamples) {
        const chunk = pcm.slice(offset, offset + chunkSamples);
        await pause(params.rtf * chunk.length * msPerSample * spread, request.signal);
        if (plan.fail) throw new SimulatedEngineFailure('simulated engine failure (test fault)');
        const deliveredMs = offset * msPerSample;
        if (plan.die && deliveredMs >= plan.die.afterMs) {
          // SIGKILL cannot be caught: the process vanishes mid-response like an OOM-killed one.
          if (plan.die.mode === 'exit') process.kill(process.pid, 'SIGKILL');
          throw new StreamCut('simulated node death mid-stream (test fault)');
        }
        if (plan.stall && deliveredMs >= plan.stall.afterMs) {
          const stall = plan.stall;
          plan.stall = undefined;
          await abortableDelay(stall.stallMs ?? Number.POSITIVE_INFINITY, request.signal);
        }
        yield chunk;
      }
      served++;
      faults.afterRequest();
    },

    async dispose() {
      params = undefined;
    },

    describe(): EngineDescription {
      return {
        kind: 'sim',
        deterministic: true,
        executionProvider: 'simulated',
        sampleRate,
        voices: pack.manifest.voices,
        details: {
          purpose: 'tests and benchmarks only',
          rtf: params?.rtf ?? -1,
          served,
          test_faults: faults?.active ?? false,
          leaked_bytes: leakedByteCount(),
        },
      };
    },
  };
}
