/**
 * ChatTTS serving figures on the full-size random-weight pack (models/full/, built on demand by
 * run.ts's exporter call; never committed), all measured in one run on this machine:
 *   - the machine's roofline: memory bandwidth (the larger of a 256 MB typed-array copy and a
 *     256 MB fp32 matrix-vector product in onnxruntime, the decode step's access pattern) and the
 *     compute peak of a large MatMul in onnxruntime (fp32 and int8 DynamicQuantizeMatMul);
 *   - aggregate GPT decode tokens/s at 1, 2, 4, 8 and 16 concurrent requests, batched on the fused
 *     graph (the engine's default, FusedBatchedGpt), batched on torch.onnx's graph (BatchedGpt) and
 *     unbatched (one forward per request, interleaved), fp32 and int8, and
 *     each as a fraction of the roofline min(B × bandwidth ÷ weight bytes, peak ÷ FLOPs per token);
 *   - the whole pipeline (GPT + decoder + Vocos + iSTFT, streamed) at 1, 2, 4 and 8 concurrent
 *     requests with int8 batching: real-time factor per request and time to first audio chunk
 *     (`--only-pipeline`: at 1, 3 and 8, decoder + Vocos fp32 vs int8 in the same run, with the
 *     per-request split between GPT and decoder + Vocos time);
 *   - the streaming seam (streamed vs whole-sentence decode: max and RMS difference);
 *   - int8 drift against fp32 (teacher-forced: logits/hidden error, greedy agreement);
 *   - PyTorch eager (node-runtime/export/bench_reference.py) single-stream decode as the baseline.
 * Writes bench/results/chattts-batching.json and prints a table.
 *
 *   npx tsx bench/chattts/batching.ts [--threads 2] [--steps 12] [--skip-torch] [--only-seam] [--only-pipeline]
 *     [--context N --only-sweep]   (prompts repeated to N positions: the KV cache a long sentence
 *                                   has; the sweep alone, to bench/results/chattts-batching-context-N-sweep.json)
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { BatchedGpt, type GptStage } from '../../node-runtime/src/engines/chattts/batched-gpt.ts';
import { ChunkedAudio, type StreamShape } from '../../node-runtime/src/engines/chattts/chunked-audio.ts';
import { loadEmbeddings } from '../../node-runtime/src/engines/chattts/embeddings.ts';
import { FusedBatchedGpt } from '../../node-runtime/src/engines/chattts/fused-gpt.ts';
import { Gpt } from '../../node-runtime/src/engines/chattts/gpt.ts';
import { createLocalChattts, type LocalChattts } from '../../node-runtime/src/engines/chattts/local-engine.ts';
import { ChatttsParametersSchema } from '../../node-runtime/src/engines/chattts/params.ts';
import type { PipelineTrace } from '../../node-runtime/src/engines/chattts/pipeline.ts';
import { codePrompt } from '../../node-runtime/src/engines/chattts/prompt.ts';
import { createRng } from '../../node-runtime/src/engines/chattts/rng.ts';
import { CodeSampler } from '../../node-runtime/src/engines/chattts/sampler.ts';
import { createSessionFactory } from '../../node-runtime/src/engines/chattts/session.ts';
import { loadTokenizer } from '../../node-runtime/src/engines/chattts/tokenizer.ts';
import type { ExecutionSettings } from '../../node-runtime/src/engines/engine.ts';
import type { LoadedPack } from '../../node-runtime/src/packs/manifest.ts';
import { verifyPack } from '../../node-runtime/src/packs/verify.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACK = path.join(REPO, 'models/full/chattts-full');
const TOKENS_PER_AUDIO_SECOND = 46.875;
const TEXT = 'hello world, this is a benchmark of the speech pipeline.';
const CONCURRENCY = [1, 2, 4, 8, 16];

const { values: opts } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '12' },
    'skip-torch': { type: 'boolean', default: false },
    /** Only the whole-pipeline rows (int8, batched), written to bench/results/chattts-pipeline.json. */
    'only-pipeline': { type: 'boolean', default: false },
    'only-sweep': { type: 'boolean', default: false },
    context: { type: 'string' },
    /** Only the float seam (a minute), written to bench/results/chattts-seam.json. */
    'only-seam': { type: 'boolean', default: false },
  },
});
const THREADS = Number(opts.threads);
const STEPS = Number(opts.steps);
const CONTEXT = opts.context === undefined ? undefined : Number(opts.context);
const execution: ExecutionSettings = { providers: ['cpu'], deviceId: 0, gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: THREADS };

type Precision = 'fp32' | 'int8';

function ensurePack(): void {
  if (existsSync(path.join(PACK, 'manifest.json')) && existsSync(path.join(PACK, 'gpt.int8.onnx')) && existsSync(path.join(PACK, 'decoder.int8.onnx'))) return;
  console.log(`building the full-size random pack into ${PACK} (a few minutes)…`);
  mkdirSync(path.dirname(PACK), { recursive: true });
  execFileSync('/usr/bin/python3', [path.join(REPO, 'node-runtime/export/export_chattts.py'), '--random', '--dims', 'full', '--out', PACK, '--int8'], {
    stdio: 'inherit',
  });
}

/**
 * Single-MatMul graphs written next to the pack once: fp32 and int8 2048² weights (compute peak
 * at 512 rows) and an fp32 8192² weight (256 MB) read by one row — a matrix-vector product is
 * what a decode step does with every weight, so its rate is the weight-streaming bandwidth.
 */
function ensureMatmulGraphs(): { fp32: string; int8: string; stream: string } {
  const out = {
    fp32: path.join(PACK, '..', 'matmul-fp32.onnx'),
    int8: path.join(PACK, '..', 'matmul-int8.onnx'),
    stream: path.join(PACK, '..', 'matvec-256mb.onnx'),
  };
  if (existsSync(out.fp32) && existsSync(out.int8) && existsSync(out.stream)) return out;
  execFileSync('/usr/bin/python3', [
    '-c',
    [
      'import sys, numpy as np',
      'from onnx import helper, numpy_helper, TensorProto, save',
      'K = N = 2048',
      'w = (np.random.default_rng(0).standard_normal((K, N)) * 0.02).astype(np.float32)',
      'a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["M", K])',
      'y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", N])',
      'g = helper.make_graph([helper.make_node("MatMul", ["a", "w"], ["y"])], "mm", [a], [y], [numpy_helper.from_array(w, "w")])',
      'save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])',
      's = np.abs(w).max(axis=0) / 63.0',
      'q = np.clip(np.rint(w / s), -63, 63).astype(np.int8)',
      'n = helper.make_node("DynamicQuantizeMatMul", ["a", "q", "s", "z"], ["y"], domain="com.microsoft")',
      'g = helper.make_graph([n], "mm8", [a], [y], [numpy_helper.from_array(q, "q"), numpy_helper.from_array(s.astype(np.float32), "s"), numpy_helper.from_array(np.zeros(N, np.int8), "z")])',
      'save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]), sys.argv[2])',
      'B = 8192',
      'w = np.full((B, B), 0.001, np.float32)',
      'a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["M", B])',
      'y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", B])',
      'g = helper.make_graph([helper.make_node("MatMul", ["a", "w"], ["y"])], "mv", [a], [y], [numpy_helper.from_array(w, "w")])',
      'save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[3])',
    ].join('\n'),
    out.fp32,
    out.int8,
    out.stream,
  ]);
  return out;
}

/** Bytes per second of a large typed-array copy (the read side; the write side moves as much). */
function copyBandwidth(): number {
  const n = 64 << 20; // 256 MB of float32: far beyond any cache
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  dst.set(src);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (n * 4) / (best / 1000);
}

/** Bytes of weights per second one row streams through a 256 MB MatMul (the decode pattern). */
async function streamBandwidth(file: string): Promise<number> {
  const s = await ort.InferenceSession.create(file, {
    intraOpNumThreads: THREADS,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const a = new ort.Tensor('float32', new Float32Array(8192).fill(0.5), [1, 8192]);
  await s.run({ a });
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await s.run({ a });
    best = Math.min(best, performance.now() - t);
  }
  await s.release();
  return (8192 * 8192 * 4) / (best / 1000);
}

async function matmulPeak(file: string): Promise<number> {
  const s = await ort.InferenceSession.create(file, {
    intraOpNumThreads: THREADS,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const m = 512;
  const a = new ort.Tensor('float32', new Float32Array(m * 2048).fill(0.5), [m, 2048]);
  await s.run({ a });
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    await s.run({ a });
    best = Math.min(best, performance.now() - t);
  }
  await s.release();
  return (2 * m * 2048 * 2048) / (best / 1000);
}

interface GptKit {
  session: ort.InferenceSession;
  /** The same weights as the fused graph (the engine's default); undefined for an older pack. */
  fused: ort.InferenceSession | undefined;
  prompt: Float32Array;
  codes: (row: number[]) => Float32Array;
  dims: GptStage['dims'];
  weightBytes: number;
  flopsPerToken: number;
}

async function gptKit(pack: LoadedPack, precision: Precision): Promise<GptKit> {
  const p = ChatttsParametersSchema.parse(pack.manifest.parameters);
  const d = p.dims;
  const file = precision === 'fp32' ? p.graphs.gpt : p.graphs.gpt_int8!;
  const session = await createSessionFactory(execution).create(pack.file(file));
  const fusedFile = precision === 'fp32' ? p.graphs.gpt_fused : p.graphs.gpt_fused_int8;
  const fused = fusedFile ? await createSessionFactory(execution).create(pack.file(fusedFile)) : undefined;
  const tokenizer = await loadTokenizer(pack.file(p.tokenizer));
  const embeddings = await loadEmbeddings(pack.file(p.embeddings), {
    textVocab: d.text_vocab,
    hidden: d.hidden,
    numVq: d.num_vq,
    audioVocab: d.num_audio_tokens,
  });
  const ids = tokenizer.encode(codePrompt(TEXT, { prompt: '[speed_5]', withSpeaker: false }));
  // Parameters read per step: 20 layers × (4·H² + 3·H·I) + 4 code heads; the graph file is these
  // weights plus a few KB (external data included when the exporter split it out).
  const params = d.layers * (4 * d.hidden * d.hidden + 3 * d.hidden * 4 * d.hidden) + 4 * 626 * d.hidden;
  // The external data file, when the exporter wrote one, sits next to the graph (and is not a
  // manifest entry of its own, so it is looked up on disk, not through the pack).
  const external = `${pack.file(file)}.data`;
  const graphBytes = statSync(pack.file(file)).size + (existsSync(external) ? statSync(external).size : 0);
  return {
    session,
    fused,
    prompt: CONTEXT === undefined ? embeddings.text(ids) : repeatTo(embeddings.text(ids), d.hidden, CONTEXT),
    codes: (row) => embeddings.codes(row),
    dims: { hidden: d.hidden, layers: d.layers, heads: d.heads, headDim: d.head_dim, numVq: d.num_vq, audioVocab: d.num_audio_tokens },
    weightBytes: graphBytes,
    flopsPerToken: 2 * params,
  };
}

/** A prompt's embeddings tiled to `positions` positions (a long sentence's KV cache, for the sweep). */
function repeatTo(prompt: Float32Array, hidden: number, positions: number): Float32Array {
  const out = new Float32Array(positions * hidden);
  for (let p = 0; p < positions; p += prompt.length / hidden) out.set(prompt.subarray(0, Math.min(prompt.length, (positions - p) * hidden)), p * hidden);
  return out;
}

/**
 * C concurrent decode loops of STEPS tokens; aggregate decode tokens/s. All prefills run first
 * (not timed), so the figure is the decode rate with C requests in flight.
 */
async function aggregate(kit: GptKit, stage: GptStage, c: number): Promise<number> {
  const seqs = Array.from({ length: c }, () => stage.begin());
  try {
    const firsts = await Promise.all(seqs.map((s) => s.step(kit.prompt)));
    const t0 = performance.now();
    await Promise.all(
      seqs.map(async (seq, i) => {
        const sampler = new CodeSampler(4, 626, 625, { temperature: 0.3, topP: 0.7, topK: 20, repetitionPenalty: 1.05, minNewTokens: STEPS + 2 }, createRng(i));
        let out = firsts[i]!;
        for (let s = 0; s < STEPS; s++) {
          const row = sampler.sample(out.logits, s);
          sampler.accept(row);
          out = await seq.step(kit.codes(row));
        }
      }),
    );
    return (c * STEPS) / ((performance.now() - t0) / 1000);
  } finally {
    for (const s of seqs) s.dispose();
  }
}

async function engineWith(precision: Precision, concurrency: number, vocoder: Precision = 'fp32'): Promise<LocalChattts> {
  const base = await verifyPack(PACK);
  const manifest = structuredClone(base.manifest);
  (manifest.parameters as Record<string, unknown>).gpt_precision = precision;
  (manifest.parameters as Record<string, unknown>).vocoder_precision = vocoder;
  const e = createLocalChattts({ pack: { ...base, manifest }, execution, concurrency });
  await e.load();
  return e;
}

/** C concurrent whole-pipeline requests (96 tokens ≈ 2 s of audio each, refine off). */
async function pipelineAt(engine: LocalChattts, c: number) {
  const runs = await Promise.all(
    Array.from({ length: c }, async (_, i) => {
      const t0 = performance.now();
      const r = await engine.run({
        text: TEXT,
        seed: 10 + i,
        refineText: false,
        signal: new AbortController().signal,
        sampling: { max_new_tokens: 96, min_new_tokens: 96 },
      });
      const ms = performance.now() - t0;
      return {
        rtf: ms / 1000 / (r.stats.tokens / TOKENS_PER_AUDIO_SECOND),
        first_chunk_ms: r.stats.first_audio_ms,
        gpt_ms: r.stats.gpt_ms,
        vocode_ms: r.stats.vocode_ms,
      };
    }),
  );
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((c - 1) / 2)]!;
  const rtfs = runs.map((r) => r.rtf).sort((a, b) => a - b);
  return {
    concurrent: c,
    rtf_median: rtfs[Math.floor((c - 1) / 2)]!,
    rtf_max: rtfs[c - 1]!,
    first_chunk_ms_median: median(runs.map((r) => r.first_chunk_ms)),
    real_time_streams: rtfs.filter((x) => x <= 1).length,
    // Time inside GPT steps (batched: waiting for the shared forward included) and inside the
    // decoder + Vocos + iSTFT, per request: which stage a real-time goal hinges on.
    gpt_ms_median: median(runs.map((r) => r.gpt_ms)),
    vocode_ms_median: median(runs.map((r) => r.vocode_ms)),
  };
}

function seamOf(a: Int16Array, b: Int16Array) {
  let max = 0;
  let se = 0;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    max = Math.max(max, Math.abs(d));
    se += d * d;
    ss += b[i]! * b[i]!;
  }
  return { max_lsb: max, rms_lsb: Math.sqrt(se / a.length), signal_rms_lsb: Math.sqrt(ss / a.length) };
}

/**
 * The seam in float, on the decoder's own output (int16 hides it when random weights are quiet):
 * the hidden states of one generated sentence through ChunkedAudio with the given shape vs one
 * whole-sentence decode. Max and RMS difference relative to the signal's peak and RMS.
 */
async function floatSeam(engine: LocalChattts) {
  const trace: PipelineTrace = { sentences: [] };
  await engine.run({
    text: TEXT,
    seed: 6,
    refineText: false,
    trace,
    signal: new AbortController().signal,
    sampling: { max_new_tokens: 200, min_new_tokens: 200 },
  });
  const hiddens = trace.sentences[0]!.hiddens;
  const parts = engine.parts();
  const decode = async (shape: StreamShape) => {
    const audio = new ChunkedAudio(parts.vocoder, shape);
    const out: Float32Array[] = [];
    for (const h of hiddens) {
      audio.push(h);
      const c = await audio.ready();
      if (c) out.push(c);
    }
    out.push(await audio.finish());
    const all = new Float32Array(out.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of out) {
      all.set(c, off);
      off += c.length;
    }
    return { wav: all, chunks: out.length };
  };
  const ref = (await decode({ ...parts.stream, chunkTokens: 0 })).wav;
  let peak = 0;
  let ss = 0;
  for (const x of ref) {
    peak = Math.max(peak, Math.abs(x));
    ss += x * x;
  }
  const rms = Math.sqrt(ss / ref.length);
  const measure = async (name: string, shape: StreamShape) => {
    const { wav, chunks } = await decode(shape);
    let max = 0;
    let se = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = wav[i]! - ref[i]!;
      max = Math.max(max, Math.abs(d));
      se += d * d;
    }
    return { shape: name, chunks, max_rel_peak: max / peak, rms_rel_signal: Math.sqrt(se / ref.length) / rms };
  };
  return {
    tokens: hiddens.length,
    signal_peak: peak,
    signal_rms: rms,
    results: [
      await measure('defaults (24/96, left 24, lookahead 12)', parts.stream),
      await measure('left 56, lookahead 56', { ...parts.stream, leftContext: 56, lookahead: 56 }),
      await measure('no context (left 0, lookahead 1, every 24)', { chunkTokens: 24, maxChunkTokens: 24, leftContext: 0, lookahead: 1 }),
    ],
  };
}

async function seam(engine: LocalChattts) {
  const req = { text: TEXT, seed: 5, refineText: false, sampling: { max_new_tokens: 160, min_new_tokens: 160 } };
  const signal = () => new AbortController().signal;
  const oneShot = await engine.run({ ...req, signal: signal(), stream: { chunkTokens: 0 } });
  const streamed = await engine.run({ ...req, signal: signal() });
  const wide = await engine.run({ ...req, signal: signal(), stream: { leftContext: 56, lookahead: 56 } });
  return {
    defaults: { ...seamOf(streamed.pcm, oneShot.pcm), chunks: streamed.stats.chunks },
    context_56: { ...seamOf(wide.pcm, oneShot.pcm), chunks: wide.stats.chunks },
  };
}

async function drift(fp32: GptKit, int8: GptKit, steps: number) {
  const a = new Gpt(fp32.session, fp32.dims).begin();
  const b = new Gpt(int8.session, int8.dims).begin();
  let embeds = fp32.prompt;
  let dl = 0;
  let sl = 0;
  let dh = 0;
  let sh = 0;
  let agree = 0;
  for (let s = 0; s < steps; s++) {
    const x = await a.step(embeds);
    const y = await b.step(embeds);
    x.hidden.forEach((v, i) => {
      dh = Math.max(dh, Math.abs(v - y.hidden[i]!));
      sh = Math.max(sh, Math.abs(v));
    });
    const row: number[] = [];
    for (let q = 0; q < 4; q++) {
      let ax = 0;
      let ay = 0;
      for (let v = 0; v < 626; v++) {
        const i = q * 626 + v;
        dl = Math.max(dl, Math.abs(x.logits[i]! - y.logits[i]!));
        sl = Math.max(sl, Math.abs(x.logits[i]!));
        if (x.logits[i]! > x.logits[q * 626 + ax]!) ax = v;
        if (y.logits[i]! > y.logits[q * 626 + ay]!) ay = v;
      }
      if (ax === ay) agree++;
      row.push(ax === 625 ? 0 : ax);
    }
    embeds = fp32.codes(row);
  }
  a.dispose();
  b.dispose();
  return { steps, logits_rel: dl / sl, hidden_rel: dh / sh, greedy_agreement: agree / (4 * steps) };
}

function torchBaseline(promptLen: number) {
  if (opts['skip-torch']) return undefined;
  const r = spawnSync(
    '/usr/bin/python3',
    [
      path.join(REPO, 'node-runtime/export/bench_reference.py'),
      '--dims',
      'full',
      '--prompt-len',
      String(promptLen),
      '--tokens',
      String(STEPS + 1),
      '--threads',
      String(THREADS),
      '--repeats',
      '1',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    },
  );
  if (r.status !== 0) return { error: `bench_reference.py exited ${r.status}: ${r.stderr.split('\n').slice(-3).join(' ')}` };
  const parsed = JSON.parse(r.stdout.trim().split('\n').pop()!) as { step: { median_ms: number } };
  return { decode_tok_s: 1000 / parsed.step.median_ms };
}

async function main() {
  ensurePack();
  if (opts['only-pipeline']) {
    // GPT int8 batched; decoder + Vocos fp32 (the default) vs int8, alternated at each concurrency
    // so both see the same machine load: compare the ratios, not the absolute RTFs.
    const engines = { fp32: await engineWith('int8', 8, 'fp32'), int8: await engineWith('int8', 8, 'int8') };
    for (const e of Object.values(engines)) await e.warm();
    const rows = [];
    for (const c of [1, 3, 8]) {
      for (const vocoder of ['fp32', 'int8'] as const) {
        const r = { vocoder, ...(await pipelineAt(engines[vocoder], c)) };
        rows.push(r);
        console.log(
          `pipeline int8 batched ×${c}, vocoder ${vocoder}: RTF median ${r.rtf_median.toFixed(2)} (max ${r.rtf_max.toFixed(2)}), first chunk ${r.first_chunk_ms_median} ms, ${r.real_time_streams} real-time; per request GPT ${r.gpt_ms_median} ms, decoder+Vocos ${r.vocode_ms_median} ms`,
        );
      }
      const [f, i] = rows.slice(-2) as [(typeof rows)[number], (typeof rows)[number]];
      console.log(
        `  ×${c}: int8 vocoder RTF ÷ fp32 vocoder RTF = ${(i.rtf_median / f.rtf_median).toFixed(2)}, decoder+Vocos ms ratio ${(i.vocode_ms_median / f.vocode_ms_median).toFixed(2)}`,
      );
    }
    const v = { fp32: engines.fp32.parts().vocoder.stats, int8: engines.int8.parts().vocoder.stats };
    console.log(`vocoder windows/runs: fp32 ${v.fp32.items}/${v.fp32.runs}, int8 ${v.int8.items}/${v.int8.runs}`);
    for (const e of Object.values(engines)) await e.dispose();
    mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
    writeFileSync(
      path.join(REPO, 'bench/results/chattts-pipeline.json'),
      JSON.stringify({ date: new Date().toISOString(), loadavg_1m: os.loadavg()[0], rows, vocoder: v }, null, 2) + '\n',
    );
    return;
  }
  if (opts['only-seam']) {
    const e = await engineWith('int8', 1);
    const f = await floatSeam(e);
    await e.dispose();
    for (const r of f.results)
      console.log(
        `float seam ${r.shape}: max ${(r.max_rel_peak * 100).toFixed(3)}% of peak, rms ${(r.rms_rel_signal * 100).toFixed(3)}% of signal rms, ${r.chunks} chunks (${f.tokens} tokens)`,
      );
    mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
    writeFileSync(
      path.join(REPO, 'bench/results/chattts-seam.json'),
      JSON.stringify({ date: new Date().toISOString(), loadavg_1m: os.loadavg()[0], ...f }, null, 2) + '\n',
    );
    return;
  }
  const mm = ensureMatmulGraphs();
  const pack = await verifyPack(PACK);
  const load0 = os.loadavg()[0]!;
  console.log(`chattts batching bench: ${THREADS} threads, ${os.cpus().length} cpus, load ${load0.toFixed(1)}, ${STEPS} decode steps per request`);
  const copy = copyBandwidth();
  const bandwidth = Math.max(copy, await streamBandwidth(mm.stream));
  const peak = { fp32: await matmulPeak(mm.fp32), int8: await matmulPeak(mm.int8) };
  console.log(
    `  roofline inputs: JS copy ${(copy / 1e9).toFixed(1)} GB/s, weight stream (the larger, used) ${(bandwidth / 1e9).toFixed(1)} GB/s, MatMul peak fp32 ${(peak.fp32 / 1e9).toFixed(1)} GFLOP/s, int8 ${(peak.int8 / 1e9).toFixed(1)} GFLOP/s`,
  );

  const kits: Record<Precision, GptKit> = { fp32: await gptKit(pack, 'fp32'), int8: await gptKit(pack, 'int8') };
  const sweep: Array<{
    precision: Precision;
    concurrent: number;
    fused_tok_s: number | null;
    batched_tok_s: number;
    unbatched_tok_s: number;
    roofline_tok_s: number;
    fused_fraction: number | null;
    batched_fraction: number;
    unbatched_fraction: number;
  }> = [];
  for (const precision of ['fp32', 'int8'] as const) {
    const kit = kits[precision];
    const batched = new BatchedGpt(kit.session, kit.dims, 16);
    const single = new Gpt(kit.session, kit.dims);
    const fused = kit.fused ? new FusedBatchedGpt(kit.fused, kit.dims, 16) : undefined;
    await aggregate(kit, single, 1); // warm
    if (fused) await aggregate(kit, fused, 1);
    for (const c of CONCURRENCY) {
      const f = fused ? await aggregate(kit, fused, c) : null;
      const b = await aggregate(kit, batched, c);
      const u = await aggregate(kit, single, c);
      const roof = Math.min((c * bandwidth) / kit.weightBytes, peak[precision] / kit.flopsPerToken);
      sweep.push({
        precision,
        concurrent: c,
        fused_tok_s: f,
        batched_tok_s: b,
        unbatched_tok_s: u,
        roofline_tok_s: roof,
        fused_fraction: f === null ? null : f / roof,
        batched_fraction: b / roof,
        unbatched_fraction: u / roof,
      });
      console.log(
        `  ${precision} ×${c}: fused batched ${f?.toFixed(1) ?? '—'} tok/s, exported batched ${b.toFixed(1)} tok/s, unbatched ${u.toFixed(1)} tok/s, roofline ${roof.toFixed(1)} (${((b / roof) * 100).toFixed(0)}% / ${((u / roof) * 100).toFixed(0)}%)`,
      );
    }
  }
  if (opts['only-sweep']) {
    for (const kit of Object.values(kits)) await Promise.all([kit.session.release(), kit.fused?.release()]);
    const file = `bench/results/chattts-batching${CONTEXT === undefined ? '' : `-context-${CONTEXT}`}-sweep.json`;
    writeFileSync(
      path.join(REPO, file),
      JSON.stringify({ date: new Date().toISOString(), loadavg_1m: os.loadavg()[0], context: CONTEXT ?? null, steps: STEPS, sweep }, null, 2) + '\n',
    );
    console.log(`wrote ${file}`);
    return;
  }
  const driftResult = await drift(kits.fp32, kits.int8, 16);
  console.log(
    `  int8 drift: logits rel ${driftResult.logits_rel.toExponential(2)}, hidden rel ${driftResult.hidden_rel.toExponential(2)}, greedy ${(driftResult.greedy_agreement * 100).toFixed(0)}%`,
  );
  for (const kit of Object.values(kits)) await Promise.all([kit.session.release(), kit.fused?.release()]);

  const engine = await engineWith('int8', 8);
  await engine.warm();
  const pipeline = [];
  for (const c of [1, 2, 4, 8]) {
    const r = await pipelineAt(engine, c);
    pipeline.push(r);
    console.log(
      `  pipeline int8 batched ×${c}: RTF median ${r.rtf_median.toFixed(2)} (max ${r.rtf_max.toFixed(2)}), first chunk ${r.first_chunk_ms_median} ms, ${r.real_time_streams} real-time`,
    );
  }
  const seamResult = { ...(await seam(engine)), float: await floatSeam(engine) };
  for (const r of seamResult.float.results)
    console.log(
      `  float seam ${r.shape}: max ${(r.max_rel_peak * 100).toFixed(3)}% of peak, rms ${(r.rms_rel_signal * 100).toFixed(3)}% of signal rms, ${r.chunks} chunks`,
    );
  console.log(
    `  seam (int8, 160 tokens): defaults max ${seamResult.defaults.max_lsb} LSB, rms ${seamResult.defaults.rms_lsb.toFixed(2)} (signal rms ${seamResult.defaults.signal_rms_lsb.toFixed(0)}); 56-token context max ${seamResult.context_56.max_lsb}, rms ${seamResult.context_56.rms_lsb.toFixed(3)}`,
  );
  await engine.dispose();
  const promptLen = kits.fp32.prompt.length / kits.fp32.dims.hidden;
  const torch = torchBaseline(promptLen);
  if (torch) console.log(`  pytorch eager single stream: ${torch.decode_tok_s !== undefined ? `${torch.decode_tok_s.toFixed(1)} tok/s` : torch.error}`);

  const result = {
    bench: 'chattts-batching',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_1m_start: load0, loadavg_1m_end: os.loadavg()[0] },
    threads: THREADS,
    steps_per_request: STEPS,
    roofline: {
      js_copy_bytes_per_s: copy,
      bandwidth_bytes_per_s: bandwidth,
      matmul_flops_per_s: peak,
      weight_bytes: { fp32: kits.fp32.weightBytes, int8: kits.int8.weightBytes },
      flops_per_token: kits.fp32.flopsPerToken,
    },
    sweep,
    int8_drift_vs_fp32: driftResult,
    pipeline_int8_batched: pipeline,
    seam: seamResult,
    pytorch_eager: torch ?? null,
  };
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/chattts-batching.json'), JSON.stringify(result, null, 2) + '\n');
  console.log('\nprecision  concurrent  fused tok/s  batched tok/s  unbatched tok/s  roofline  fused/roof  batched/roof  unbatched/roof');
  for (const s of sweep) {
    console.log(
      `${s.precision.padEnd(9)}  ${String(s.concurrent).padStart(10)}  ${(s.fused_tok_s?.toFixed(1) ?? '—').padStart(11)}  ${s.batched_tok_s.toFixed(1).padStart(13)}  ${s.unbatched_tok_s.toFixed(1).padStart(15)}  ${s.roofline_tok_s.toFixed(1).padStart(8)}  ${(s.fused_fraction?.toFixed(2) ?? '—').padStart(10)}  ${s.batched_fraction.toFixed(2).padStart(12)}  ${s.unbatched_fraction.toFixed(2).padStart(14)}`,
    );
  }
  console.log('wrote bench/results/chattts-batching.json');
}

await main();
