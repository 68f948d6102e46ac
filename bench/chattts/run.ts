/**
 * ChatTTS benchmark on the full-size random-weight pack (real dimensions: 20 layers × 768, decoder
 * 12 × 512, Vocos 8 × 512). Builds the pack on demand into models/full/ (gitignored), then in one
 * run measures, on this CPU:
 *   - GPT decode tokens/s (KV-cache steps incl. sampling), fp32 and int8 weight-quantised graphs;
 *   - real-time factor (ChatTTS makes 46.875 tokens per second of audio) and time to first audio
 *     for a one-sentence request of N tokens (first audio = the first streamed chunk);
 *   - the same generation in PyTorch eager (node-runtime/export/bench_reference.py) as baseline;
 *   - int8 drift against fp32 (hidden/logits error, greedy agreement over teacher-forced steps);
 *   - main-thread event-loop utilisation and timer lag while the worker-thread engine synthesises.
 * Writes bench/results/chattts.json and prints a table.
 *
 *   npx tsx bench/chattts/run.ts [--tokens 64] [--threads 2] [--skip-torch] [--repeats 2]
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createChatttsEngine } from '../../node-runtime/src/engines/chattts/chattts-engine.ts';
import { createLocalChattts, type LocalChattts } from '../../node-runtime/src/engines/chattts/local-engine.ts';
import { codePrompt } from '../../node-runtime/src/engines/chattts/prompt.ts';
import { createRng } from '../../node-runtime/src/engines/chattts/rng.ts';
import { CodeSampler } from '../../node-runtime/src/engines/chattts/sampler.ts';
import { SPECIAL } from '../../node-runtime/src/engines/chattts/tokenizer.ts';
import type { ExecutionSettings } from '../../node-runtime/src/engines/engine.ts';
import type { LoadedPack } from '../../node-runtime/src/packs/manifest.ts';
import { readManifest, verifyPack } from '../../node-runtime/src/packs/verify.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACK = path.join(REPO, 'models/full/chattts-full');
const TOKENS_PER_AUDIO_SECOND = 46.875;
const TEXT = 'hello world, this is a benchmark of the speech pipeline.';

const { values: opts } = parseArgs({
  options: {
    tokens: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '2' },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const N = Number(opts.tokens);
const THREADS = Number(opts.threads);
const REPEATS = Number(opts.repeats);

function ensurePack(): void {
  if (existsSync(path.join(PACK, 'manifest.json')) && existsSync(path.join(PACK, 'gpt.int8.onnx')) && existsSync(path.join(PACK, 'gpt.int4.onnx'))) return;
  console.log(`building the full-size random pack into ${PACK} (a few minutes)…`);
  mkdirSync(path.dirname(PACK), { recursive: true });
  execFileSync(
    '/usr/bin/python3',
    [path.join(REPO, 'node-runtime/export/export_chattts.py'), '--random', '--dims', 'full', '--out', PACK, '--int8', '--int4'],
    { stdio: 'inherit' },
  );
}

type Precision = 'fp32' | 'int8' | 'int4';

const execution: ExecutionSettings = { providers: ['cpu'], deviceId: 0, gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: THREADS };

async function packWith(precision: Precision, fixedTokens?: number): Promise<LoadedPack> {
  const base = await verifyPack(PACK);
  const manifest = structuredClone(base.manifest);
  const params = manifest.parameters as Record<string, unknown> & { sampling: Record<string, unknown> };
  params.gpt_precision = precision;
  // Random weights rarely end the refine stage early (up to 384 text tokens): these single-stream
  // figures are the code stage, decoder and Vocos, as before the refine stage existed.
  params.refine = { enabled: false };
  // Random weights emit EOS whenever they like; requests through the worker get a fixed length.
  if (fixedTokens !== undefined) params.sampling = { ...params.sampling, max_new_tokens: fixedTokens, min_new_tokens: fixedTokens };
  return { ...base, manifest };
}

interface GptRun {
  prefill_ms: number;
  decode_ms: number;
  decode_tok_s: number;
  step_ms: number[];
  cpu_ms_per_step: number;
}

/** On a shared machine single steps are delayed at random; the median and the 10th percentile
 * of per-step times (prompt excluded) are steadier than a mean. */
function stepStats(steps: number[], cpuMs: number[]) {
  const s = [...steps].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))]!;
  const c = [...cpuMs].sort((a, b) => a - b);
  return { median_ms: q(0.5), p10_ms: q(0.1), n: s.length, cpu_ms_per_step: c[Math.floor((c.length - 1) / 2)]! };
}

/** Prefill + N steps of the real loop (sampler, code embeddings, KV hand-over), timed. */
async function timeGpt(engine: LocalChattts, seed: number): Promise<GptRun> {
  const parts = engine.parts();
  const ids = parts.tokenizer.encode(codePrompt(TEXT, { prompt: '[speed_5]', withSpeaker: true }));
  let embeds = parts.embeddings.text(ids, { id: parts.tokenizer.id(SPECIAL.spkEmb), vector: parts.voices.get('default')! });
  const sampler = new CodeSampler(4, 626, 625, { temperature: 0.3, topP: 0.7, topK: 20, repetitionPenalty: 1.05, minNewTokens: N }, createRng(seed));
  const seq = parts.gpt.begin();
  const t0 = performance.now();
  let t1 = t0;
  let c1 = process.cpuUsage();
  const stepMs: number[] = [];
  for (let step = 0; step < N; step++) {
    const ts = performance.now();
    const out = await seq.step(embeds);
    const row = sampler.sample(out.logits, step);
    sampler.accept(row);
    embeds = parts.embeddings.codes(row);
    if (step === 0) {
      t1 = performance.now();
      c1 = process.cpuUsage();
    } else stepMs.push(performance.now() - ts);
  }
  const t2 = performance.now();
  const cpu = process.cpuUsage(c1);
  seq.dispose();
  return {
    prefill_ms: t1 - t0,
    decode_ms: t2 - t1,
    decode_tok_s: (N - 1) / ((t2 - t1) / 1000),
    step_ms: stepMs,
    cpu_ms_per_step: (cpu.user + cpu.system) / 1000 / (N - 1),
  };
}

/** int8 vs fp32 on the same teacher-forced inputs: error of hidden/logits, greedy agreement. */
async function drift(fp32: LocalChattts, int8: LocalChattts, steps: number) {
  // `int8` is whichever quantised variant is compared with fp32.
  const p32 = fp32.parts();
  const p8 = int8.parts();
  const ids = p32.tokenizer.encode(codePrompt(TEXT, { prompt: '[speed_5]', withSpeaker: true }));
  let embeds = p32.embeddings.text(ids, { id: p32.tokenizer.id(SPECIAL.spkEmb), vector: p32.voices.get('default')! });
  const a = p32.gpt.begin();
  const b = p8.gpt.begin();
  let maxHidden = 0;
  let maxLogit = 0;
  let scaleHidden = 0;
  let scaleLogit = 0;
  let agree = 0;
  let rows = 0;
  for (let s = 0; s < steps; s++) {
    const x = await a.step(embeds);
    const y = await b.step(embeds);
    for (let i = 0; i < x.hidden.length; i++) {
      maxHidden = Math.max(maxHidden, Math.abs(x.hidden[i]! - y.hidden[i]!));
      scaleHidden = Math.max(scaleHidden, Math.abs(x.hidden[i]!));
    }
    const row: number[] = [];
    for (let q = 0; q < 4; q++) {
      let ax = 0;
      let ay = 0;
      for (let v = 0; v < 626; v++) {
        const i = q * 626 + v;
        maxLogit = Math.max(maxLogit, Math.abs(x.logits[i]! - y.logits[i]!));
        scaleLogit = Math.max(scaleLogit, Math.abs(x.logits[i]!));
        if (x.logits[i]! > x.logits[q * 626 + ax]!) ax = v;
        if (y.logits[i]! > y.logits[q * 626 + ay]!) ay = v;
      }
      rows++;
      if (ax === ay) agree++;
      row.push(ax === 625 ? 0 : ax);
    }
    // Teacher forcing with fp32's greedy codes keeps both graphs on the same inputs.
    embeds = p32.embeddings.codes(row);
  }
  a.dispose();
  b.dispose();
  return {
    steps,
    hidden_max_abs: maxHidden,
    hidden_rel: maxHidden / scaleHidden,
    logits_max_abs: maxLogit,
    logits_rel: maxLogit / scaleLogit,
    greedy_agreement: agree / rows,
  };
}

async function pipelineRun(engine: LocalChattts, seed: number) {
  const t0 = performance.now();
  const r = await engine.run({ text: TEXT, seed, refineText: false, signal: new AbortController().signal, sampling: { max_new_tokens: N, min_new_tokens: N } });
  const ms = performance.now() - t0;
  const audioS = r.stats.tokens / TOKENS_PER_AUDIO_SECOND;
  return {
    total_ms: ms,
    tokens: r.stats.tokens,
    audio_s: audioS,
    rtf: ms / 1000 / audioS,
    first_audio_ms: r.stats.first_audio_ms,
    vocode_ms: r.stats.vocode_ms,
  };
}

async function onnxSuite(precision: Precision) {
  const engine = createLocalChattts({ pack: await packWith(precision), execution });
  const t = performance.now();
  await engine.load();
  const loadMs = performance.now() - t;
  await engine.warm();
  const gpt: GptRun[] = [];
  for (let r = 0; r < REPEATS; r++) gpt.push(await timeGpt(engine, r));
  const best = gpt.reduce((x, y) => (y.decode_tok_s > x.decode_tok_s ? y : x));
  const step = stepStats(
    gpt.flatMap((g) => g.step_ms),
    gpt.map((g) => g.cpu_ms_per_step),
  );
  const pipe = await pipelineRun(engine, 1);
  console.log(
    `  onnx ${precision}: load ${loadMs.toFixed(0)} ms, decode step median ${step.median_ms.toFixed(1)} ms (p10 ${step.p10_ms.toFixed(1)}), ${step.cpu_ms_per_step.toFixed(1)} CPU ms/step, RTF ${pipe.rtf.toFixed(2)}`,
  );
  return {
    engine,
    result: { precision, load_ms: loadMs, gpt_runs: gpt.map(({ step_ms: _s, ...rest }) => rest), gpt: { ...best, step_ms: undefined }, step, pipeline: pipe },
  };
}

async function workerEventLoop(precision: Precision) {
  const engine = createChatttsEngine({ pack: await packWith(precision, N), execution });
  await engine.load();
  await engine.warm();
  let maxLag = 0;
  let last = performance.now();
  const iv = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 5);
    last = now;
  }, 5);
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await engine.synthesize({ text: TEXT, seed: 3, signal: new AbortController().signal });
  const ms = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  clearInterval(iv);
  await engine.dispose();
  return { precision, synth_ms: ms, main_thread_elu: elu, max_timer_lag_ms: maxLag };
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
      String(N),
      '--threads',
      String(THREADS),
      '--repeats',
      String(REPEATS),
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      // Same courtesy as the ORT sessions (no spinning threads), so the baseline is not handicapped
      // on a shared machine.
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    },
  );
  if (r.status !== 0) {
    console.error(r.stderr);
    return { error: `bench_reference.py exited ${r.status}` };
  }
  const parsed = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    best: { decode_tok_s: number; total_ms: number; prefill_ms: number; decode_ms: number; vocode_ms: number; samples: number; step_ms?: number[] };
    step: { median_ms: number; p10_ms: number; n: number; cpu_ms_per_step: number };
    torch: string;
    threads: number;
    runs?: unknown;
  };
  delete parsed.best.step_ms;
  delete parsed.runs;
  console.log(
    `  pytorch: decode step median ${parsed.step.median_ms.toFixed(1)} ms (p10 ${parsed.step.p10_ms.toFixed(1)}), ${parsed.step.cpu_ms_per_step.toFixed(1)} CPU ms/step`,
  );
  return parsed;
}

async function main() {
  ensurePack();
  const manifest = await readManifest(PACK);
  console.log(
    `chattts bench: ${manifest.name} (${(manifest.parameters as { source?: string }).source}), ${N} tokens, ${THREADS} threads, ${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const fp32 = await onnxSuite('fp32');
  const int8 = await onnxSuite('int8');
  const promptLen = fp32.engine.parts().tokenizer.encode(codePrompt(TEXT, { prompt: '[speed_5]', withSpeaker: true })).length;
  const driftResult = await drift(fp32.engine, int8.engine, 16);
  await int8.engine.dispose();
  const int4 = await onnxSuite('int4');
  const drift4 = await drift(fp32.engine, int4.engine, 16);
  console.log('  drift measured');
  await fp32.engine.dispose();
  await int4.engine.dispose();
  const loop = await workerEventLoop('int4');
  console.log('  worker event loop measured; running the PyTorch baseline…');
  const torch = torchBaseline(promptLen);

  const torchOk = torch && 'best' in torch ? torch : undefined;
  // tokens/s from the median step time (robust on a shared machine); p10 ≈ an unloaded machine.
  const tokS = (ms: number) => 1000 / ms;
  const torchTokS = torchOk ? tokS(torchOk.step.median_ms) : undefined;
  const torchRtf = torchOk ? torchOk.best.total_ms / 1000 / (N / TOKENS_PER_AUDIO_SECOND) : undefined;
  const rows = [
    ['pytorch eager fp32', torchTokS, torchOk ? tokS(torchOk.step.p10_ms) : undefined, torchRtf, torchOk?.best.total_ms],
    ['onnx fp32', tokS(fp32.result.step.median_ms), tokS(fp32.result.step.p10_ms), fp32.result.pipeline.rtf, fp32.result.pipeline.first_audio_ms],
    ['onnx int8', tokS(int8.result.step.median_ms), tokS(int8.result.step.p10_ms), int8.result.pipeline.rtf, int8.result.pipeline.first_audio_ms],
    ['onnx int4', tokS(int4.result.step.median_ms), tokS(int4.result.step.p10_ms), int4.result.pipeline.rtf, int4.result.pipeline.first_audio_ms],
  ] as const;
  const result = {
    bench: 'chattts',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_1m: os.loadavg()[0] },
    pack: { name: manifest.name, version: manifest.version, source: (manifest.parameters as { source?: string }).source },
    tokens: N,
    threads: THREADS,
    prompt_tokens: promptLen,
    tokens_per_audio_second: TOKENS_PER_AUDIO_SECOND,
    onnx_fp32: fp32.result,
    onnx_int8: int8.result,
    onnx_int4: int4.result,
    pytorch: torch,
    int8_drift_vs_fp32: driftResult,
    int4_drift_vs_fp32: drift4,
    worker_event_loop: loop,
    decode_tok_s_from_median_step: {
      pytorch: torchTokS ?? null,
      onnx_fp32: tokS(fp32.result.step.median_ms),
      onnx_int8: tokS(int8.result.step.median_ms),
      onnx_int4: tokS(int4.result.step.median_ms),
    },
    ratios: {
      onnx_fp32_vs_pytorch_decode: torchOk ? torchOk.step.median_ms / fp32.result.step.median_ms : null,
      onnx_int8_vs_pytorch_decode: torchOk ? torchOk.step.median_ms / int8.result.step.median_ms : null,
      onnx_int4_vs_pytorch_decode: torchOk ? torchOk.step.median_ms / int4.result.step.median_ms : null,
      // CPU time per decode step: what each token costs in core-time, whatever else runs.
      cpu_time_fp32_vs_pytorch: torchOk ? torchOk.step.cpu_ms_per_step / fp32.result.step.cpu_ms_per_step : null,
      cpu_time_int8_vs_pytorch: torchOk ? torchOk.step.cpu_ms_per_step / int8.result.step.cpu_ms_per_step : null,
      cpu_time_int4_vs_pytorch: torchOk ? torchOk.step.cpu_ms_per_step / int4.result.step.cpu_ms_per_step : null,
    },
    goals: {
      faster_than_pytorch_1_5x: torchOk
        ? torchOk.step.median_ms / Math.min(fp32.result.step.median_ms, int8.result.step.median_ms, int4.result.step.median_ms) >= 1.5
        : null,
      real_time_47_tok_s: tokS(Math.min(fp32.result.step.median_ms, int8.result.step.median_ms, int4.result.step.median_ms)) >= 47,
    },
  };
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/chattts.json'), JSON.stringify(result, null, 2) + '\n');

  const f = (x: number | undefined, d = 1) => (x === undefined ? '—' : x.toFixed(d));
  console.log(`\nvariant               tok/s (median step)  tok/s (p10 step)    RTF   first audio ms (torch: total)`);
  for (const [name, tok, tokP10, rtf, ms] of rows)
    console.log(`${name.padEnd(22)} ${f(tok).padStart(18)} ${f(tokP10).padStart(17)} ${f(rtf, 2).padStart(6)} ${f(ms, 0).padStart(14)}`);
  console.log(
    `CPU ms per decode step: pytorch ${f(torchOk?.step.cpu_ms_per_step)}, onnx fp32 ${f(fp32.result.step.cpu_ms_per_step)}, int8 ${f(int8.result.step.cpu_ms_per_step)}, int4 ${f(int4.result.step.cpu_ms_per_step)}`,
  );
  if (torchTokS) {
    console.log(
      `\nratio vs PyTorch eager (median decode step): fp32 ${f(result.ratios.onnx_fp32_vs_pytorch_decode!, 2)}×, int8 ${f(result.ratios.onnx_int8_vs_pytorch_decode!, 2)}×, int4 ${f(result.ratios.onnx_int4_vs_pytorch_decode!, 2)}×`,
    );
  }
  for (const [name, d] of [
    ['int8', driftResult],
    ['int4', drift4],
  ] as const) {
    console.log(
      `${name} drift vs fp32 over ${d.steps} steps: logits max abs ${d.logits_max_abs.toExponential(2)} (rel ${d.logits_rel.toExponential(2)}), hidden rel ${d.hidden_rel.toExponential(2)}, greedy agreement ${(d.greedy_agreement * 100).toFixed(1)}%`,
    );
  }
  console.log(`worker engine (int4): main-thread ELU ${(loop.main_thread_elu * 100).toFixed(1)}%, max timer lag ${loop.max_timer_lag_ms.toFixed(1)} ms`);
  console.log(`goals: ≥1.5× PyTorch ${result.goals.faster_than_pytorch_1_5x}, ≥47 tok/s ${result.goals.real_time_47_tok_s}`);
  console.log('wrote bench/results/chattts.json');
}

await main();
