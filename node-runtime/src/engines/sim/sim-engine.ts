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
import { wholeAsStream, type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import { abortableDelay } from './abortable-delay.ts';
import { parseSimParameters, type SimParameters } from './sim-parameters.ts';
import { hashText, synthesizeTone } from './synthetic-audio.ts';
import { createFaultHooks, leakedByteCount, SimulatedEngineFailure, type FaultHooks } from './test-faults.ts';

const DEFAULT_SAMPLE_RATE = 16_000;

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
      if (!params || !faults) throw new Error('sim engine used before load()');
      const speed = request.speed ?? 1;
      const audioMs = Math.min(params.max_audio_ms, Math.max(params.min_audio_ms, (params.ms_per_char * request.text.length) / speed));
      const spread = 1 + params.jitter * (2 * random() - 1);
      const computeMs = Math.max(0, (params.base_ms + params.rtf * audioMs) * spread);
      await abortableDelay(computeMs, request.signal);
      if (faults.shouldFail()) throw new SimulatedEngineFailure('simulated engine failure (test fault)');
      const seed = (hashText(request.text) ^ (request.seed ?? 0)) >>> 0;
      const pcm = synthesizeTone({ durationMs: audioMs, sampleRate, baseHz: params.tone_hz * voiceShift(request.voice), seed });
      served++;
      faults.afterRequest();
      return { pcm, sampleRate, stats: { simulated_compute_ms: Math.round(computeMs), samples: pcm.length } };
    },

    stream(request: SynthesisRequest): AsyncIterable<Int16Array> {
      return wholeAsStream(this, request);
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
