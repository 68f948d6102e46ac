/**
 * ChatTTS in the calling thread: load() validates the pack's parameters and speakers, loads the
 * tokenizer and embeddings and creates the GPT, decoder and Vocos sessions on the configured
 * execution provider; warm() runs one short synthesis; synthesize() runs pipeline.ts; dispose()
 * releases the sessions.
 *
 * onnxruntime-node runs `session.run` synchronously on the calling thread (its backend only
 * defers the call with setImmediate), so this must not run on the runtime's event loop: the
 * `chattts` engine (chattts-engine.ts) hosts it in a worker thread. Tests and benchmarks use it
 * directly for its hooks (`run`, `parts`).
 * @module
 */
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import { loadEmbeddings } from './embeddings.ts';
import { BatchedGpt } from './batched-gpt.ts';
import { FusedBatchedGpt } from './fused-gpt.ts';
import { Gpt } from './gpt.ts';
import { ChatttsParametersSchema, HomophonesSchema, SpeakersFileSchema, type ChatttsParameters } from './params.ts';
import { HeadText } from './refine.ts';
import { DvaeEncoder } from './dvae-encoder.ts';
import {
  EMPTY_SPEAKER_VOICE,
  runPipeline,
  SAMPLE_RATE,
  streamPipeline,
  type PipelineParts,
  type PipelineRequest,
  type PipelineResult,
  type PipelineStats,
} from './pipeline.ts';
import { createSessionFactory } from './session.ts';
import { decodeSpeaker, decodeSpeakerStats, normalizeSpeaker } from './speaker.ts';
import { loadTokenizer } from './tokenizer.ts';
import { Vocoder } from './vocoder.ts';

export interface LocalChattts extends Engine {
  /** The pipeline with test/benchmark hooks (sampling overrides, per-step callback). */
  run(request: PipelineRequest): Promise<PipelineResult>;
  /** The streamed form of `run`: PCM16 chunks, then the stats as the generator's return value. */
  streamRun(request: PipelineRequest): AsyncGenerator<Int16Array, PipelineStats>;
  /** Loaded parts, for golden-vector tests and benchmarks. */
  parts(): PipelineParts;
}

/**
 * @example
 * const engine = createLocalChattts({ pack, execution: { providers: ['cpu'], deviceId: 0,
 *   gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: 2 } });
 * await engine.load(); await engine.warm();
 * const { pcm } = await engine.synthesize({ text: '你好。', seed: 7, signal });
 */
export function createLocalChattts(context: EngineContext): LocalChattts {
  const { pack, execution } = context;
  // The scheduler's slots are the decode batch: every admitted request decodes in the same forwards.
  const maxBatch = Math.max(1, context.concurrency ?? 1);
  const sessions = createSessionFactory(execution);
  let params: ChatttsParameters | undefined;
  let loaded: PipelineParts | undefined;
  let owned: ort.InferenceSession[] = [];
  let gptGraph: 'fused' | 'exported' = 'exported';

  const ready = (): PipelineParts => {
    if (!loaded) throw new Error('chattts engine used before load()');
    return loaded;
  };

  return {
    async load() {
      if (pack.manifest.engine !== 'chattts') throw new Error(`pack ${pack.manifest.name} is for engine ${pack.manifest.engine}`);
      const p = ChatttsParametersSchema.parse(pack.manifest.parameters);
      params = p;
      const d = p.dims;
      const speakersFile = SpeakersFileSchema.parse(JSON.parse(await readFile(pack.file(p.speakers), 'utf8')));
      const voices = new Map<string, Float32Array>();
      for (const [name, text] of Object.entries(speakersFile.voices)) voices.set(name, normalizeSpeaker(decodeSpeaker(text, d.hidden)));
      for (const name of pack.manifest.voices) {
        if (name !== 'random' && name !== EMPTY_SPEAKER_VOICE && !voices.has(name)) throw new Error(`manifest voice ${name} has no speaker in ${p.speakers}`);
      }
      if (p.default_voice !== 'random' && p.default_voice !== EMPTY_SPEAKER_VOICE && !voices.has(p.default_voice))
        throw new Error(`default_voice ${p.default_voice} has no speaker`);
      const tokenizer = await loadTokenizer(pack.file(p.tokenizer));
      if (tokenizer.vocabSize > d.text_vocab) throw new Error(`tokenizer has ${tokenizer.vocabSize} ids, emb_text only ${d.text_vocab}`);
      const embeddings = await loadEmbeddings(pack.file(p.embeddings), {
        textVocab: d.text_vocab,
        hidden: d.hidden,
        numVq: d.num_vq,
        audioVocab: d.num_audio_tokens,
      });
      const graph = p.gpt_graph ?? (execution.providers[0] === 'cuda' ? 'exported' : 'fused');
      const fusedFile = graph === 'fused' ? { fp32: p.graphs.gpt_fused, int8: p.graphs.gpt_fused_int8, int4: undefined }[p.gpt_precision] : undefined;
      gptGraph = fusedFile ? 'fused' : 'exported';
      const gptFile = fusedFile ?? { fp32: p.graphs.gpt, int8: p.graphs.gpt_int8, int4: p.graphs.gpt_int4 }[p.gpt_precision]!;
      const homophones = p.homophones ? HomophonesSchema.parse(JSON.parse(await readFile(pack.file(p.homophones), 'utf8'))) : undefined;
      const created: ort.InferenceSession[] = [];
      let encoderSession: ort.InferenceSession | undefined;
      try {
        const [decoderFile, vocosFile] = p.vocoder_precision === 'int8' ? [p.graphs.decoder_int8!, p.graphs.vocos_int8!] : [p.graphs.decoder, p.graphs.vocos];
        for (const f of [gptFile, decoderFile, vocosFile]) created.push(await sessions.create(pack.file(f)));
        if (p.graphs.head_text) created.push(await sessions.create(pack.file(p.graphs.head_text)));
        if (p.graphs.dvae_encoder) encoderSession = await sessions.create(pack.file(p.graphs.dvae_encoder));
      } catch (error) {
        await Promise.all([...created, ...(encoderSession ? [encoderSession] : [])].map((s) => s.release()));
        throw error;
      }
      owned = [...created, ...(encoderSession ? [encoderSession] : [])];
      const gptDims = { hidden: d.hidden, layers: d.layers, heads: d.heads, headDim: d.head_dim, numVq: d.num_vq, audioVocab: d.num_audio_tokens };
      const [gptSession, decSession, vocSession, headSession] = created as [
        ort.InferenceSession,
        ort.InferenceSession,
        ort.InferenceSession,
        ort.InferenceSession | undefined,
      ];
      loaded = {
        tokenizer,
        embeddings,
        gpt: fusedFile
          ? new FusedBatchedGpt(gptSession, gptDims, maxBatch)
          : maxBatch > 1
            ? new BatchedGpt(gptSession, gptDims, maxBatch)
            : new Gpt(gptSession, gptDims),
        vocoder: new Vocoder(decSession, vocSession, d.hidden, maxBatch > 1),
        voices,
        stats: decodeSpeakerStats(speakersFile.spk_stat, d.hidden),
        defaultVoice: p.default_voice,
        sampling: p.sampling,
        refine: p.refine,
        headText: headSession ? new HeadText(headSession, d.hidden) : undefined,
        dvaeEncoder: encoderSession ? new DvaeEncoder(encoderSession, d.num_vq) : undefined,
        firstSentencePrompt: p.first_sentence_prompt.enabled ?? encoderSession !== undefined,
        homophones: homophones ? new Map(Object.entries(homophones)) : undefined,
        stream: {
          chunkTokens: p.stream.chunk_tokens,
          maxChunkTokens: p.stream.max_chunk_tokens,
          leftContext: p.stream.left_context,
          lookahead: p.stream.lookahead,
        },
      };
    },

    async warm() {
      // A fixed short generation touches every session and allocator path once.
      await runPipeline(ready(), {
        text: 'hello.',
        seed: 1,
        signal: new AbortController().signal,
        sampling: { max_new_tokens: 4 },
        refine: { max_new_tokens: 4 },
      });
    },

    async synthesize(request: SynthesisRequest): Promise<SynthesisResult> {
      const { pcm, sampleRate, stats } = await runPipeline(ready(), request);
      return { pcm, sampleRate, stats };
    },

    stream(request: SynthesisRequest): AsyncIterable<Int16Array> {
      return streamPipeline(ready(), request);
    },

    run: (request) => runPipeline(ready(), request),
    streamRun: (request) => streamPipeline(ready(), request),
    parts: ready,

    async dispose() {
      const closing = owned;
      owned = [];
      loaded = undefined;
      await Promise.all(closing.map((s) => s.release()));
    },

    describe(): EngineDescription {
      return {
        kind: 'chattts',
        // Seeded sampling on one execution provider: the same request gives the same samples —
        // unbatched. A batched row is padded to the batch's KV width, which regroups its softmax
        // sums (float rounding, ≤ 1e-6): audio then depends on the batch in its last bits.
        deterministic: maxBatch === 1,
        executionProvider: sessions.provider(),
        sampleRate: pack.manifest.sample_rate ?? SAMPLE_RATE,
        voices: pack.manifest.voices,
        details: {
          gpt_precision: params?.gpt_precision ?? 'fp32',
          gpt_graph: gptGraph,
          vocoder_precision: params?.vocoder_precision ?? 'fp32',
          layers: params?.dims.layers ?? 0,
          hidden: params?.dims.hidden ?? 0,
          max_new_tokens: params?.sampling.max_new_tokens ?? 0,
          refine_text: params?.refine.enabled ?? false,
          first_sentence_prompt: loaded?.firstSentencePrompt ?? false,
          batch_size: maxBatch,
          homophones: params?.homophones !== undefined,
          stream_chunk_tokens: params?.stream.chunk_tokens ?? 0,
          stream_lookahead_tokens: params?.stream.lookahead ?? 0,
          ...sessions.notes(),
        },
      };
    },
  };
}
