/**
 * GPU check for the ChatTTS engine, for a machine with an NVIDIA GPU (one command, a few minutes):
 *   1. the CUDA execution provider loads (the engine reports `cuda`, not a silent CPU fallback);
 *   2. aggregate GPT decode tokens/s at batch 1, 8 and 32 (continuous batching, fp32 graph);
 *   3. whole-pipeline real-time factor of one request and of 8 concurrent ones, time to first chunk;
 *   4. GPU memory in use (nvidia-smi) after loading and at the end.
 * Writes bench/results/chattts-gpu.json. Builds the full-size random pack first if it is missing
 * (models/full/, never committed). Exits 1 when CUDA did not load.
 *
 *   npx tsx bench/chattts/gpu-check.ts [--steps 32] [--device 0]
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BatchedGpt } from '../../node-runtime/src/engines/chattts/batched-gpt.ts';
import { createLocalChattts } from '../../node-runtime/src/engines/chattts/local-engine.ts';
import { codePrompt } from '../../node-runtime/src/engines/chattts/prompt.ts';
import { createRng } from '../../node-runtime/src/engines/chattts/rng.ts';
import { CodeSampler } from '../../node-runtime/src/engines/chattts/sampler.ts';
import type { ExecutionSettings } from '../../node-runtime/src/engines/engine.ts';
import { verifyPack } from '../../node-runtime/src/packs/verify.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACK = path.join(REPO, 'models/full/chattts-full');
const TOKENS_PER_AUDIO_SECOND = 46.875;
const TEXT = 'hello world, this is a benchmark of the speech pipeline.';
const { values: opts } = parseArgs({ options: { steps: { type: 'string', default: '32' }, device: { type: 'string', default: '0' } } });
const STEPS = Number(opts.steps);
const execution: ExecutionSettings = {
  providers: ['cuda'],
  deviceId: Number(opts.device),
  gpuMemLimitBytes: 0,
  arenaExtendStrategy: 'kSameAsRequested',
  intraOpThreads: 0,
};

function gpuMemoryMiB(): number | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', `--id=${opts.device}`], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim().split('\n')[0]) : null;
}

async function main() {
  if (!existsSync(path.join(PACK, 'manifest.json'))) {
    mkdirSync(path.dirname(PACK), { recursive: true });
    execFileSync('/usr/bin/python3', [path.join(REPO, 'node-runtime/export/export_chattts.py'), '--random', '--dims', 'full', '--out', PACK, '--int8'], {
      stdio: 'inherit',
    });
  }
  const memBefore = gpuMemoryMiB();
  const engine = createLocalChattts({ pack: await verifyPack(PACK), execution, concurrency: 32 });
  const t0 = performance.now();
  await engine.load();
  const loadMs = performance.now() - t0;
  const provider = engine.describe().executionProvider;
  console.log(`execution provider: ${provider} (load ${loadMs.toFixed(0)} ms)`);
  if (provider !== 'cuda') {
    console.error(`CUDA did not load: ${JSON.stringify(engine.describe().details)}`);
    process.exitCode = 1;
  }
  await engine.warm();
  const memLoaded = gpuMemoryMiB();
  const parts = engine.parts();
  const gpt = parts.gpt as BatchedGpt;
  const prompt = parts.embeddings.text(parts.tokenizer.encode(codePrompt(TEXT, { prompt: '[speed_5]', withSpeaker: false })));

  const batches: Array<{ batch: number; tok_s: number }> = [];
  for (const b of [1, 8, 32]) {
    const seqs = Array.from({ length: b }, () => gpt.begin());
    const firsts = await Promise.all(seqs.map((s) => s.step(prompt)));
    const ts = performance.now();
    await Promise.all(
      seqs.map(async (seq, i) => {
        const sampler = new CodeSampler(4, 626, 625, { temperature: 0.3, topP: 0.7, topK: 20, repetitionPenalty: 1.05, minNewTokens: STEPS + 2 }, createRng(i));
        let out = firsts[i]!;
        for (let s = 0; s < STEPS; s++) {
          const row = sampler.sample(out.logits, s);
          sampler.accept(row);
          out = await seq.step(parts.embeddings.codes(row));
        }
      }),
    );
    const tokS = (b * STEPS) / ((performance.now() - ts) / 1000);
    for (const s of seqs) s.dispose();
    batches.push({ batch: b, tok_s: tokS });
    console.log(`batch ${b}: ${tokS.toFixed(1)} tokens/s aggregate`);
  }

  const pipeline: Array<{ concurrent: number; rtf_median: number; first_chunk_ms_median: number }> = [];
  for (const c of [1, 8]) {
    const runs = await Promise.all(
      Array.from({ length: c }, async (_, i) => {
        const ts = performance.now();
        const r = await engine.run({
          text: TEXT,
          seed: i,
          refineText: false,
          signal: new AbortController().signal,
          sampling: { max_new_tokens: 200, min_new_tokens: 200 },
        });
        return { rtf: (performance.now() - ts) / 1000 / (r.stats.tokens / TOKENS_PER_AUDIO_SECOND), first: r.stats.first_audio_ms };
      }),
    );
    const rtf = runs.map((r) => r.rtf).sort((a, b) => a - b)[Math.floor((c - 1) / 2)]!;
    const first = runs.map((r) => r.first).sort((a, b) => a - b)[Math.floor((c - 1) / 2)]!;
    pipeline.push({ concurrent: c, rtf_median: rtf, first_chunk_ms_median: first });
    console.log(`pipeline ×${c}: RTF ${rtf.toFixed(3)}, first chunk ${first} ms`);
  }
  const memEnd = gpuMemoryMiB();
  await engine.dispose();
  const result = {
    bench: 'chattts-gpu',
    date: new Date().toISOString(),
    provider,
    load_ms: loadMs,
    gpu:
      spawnSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader', `--id=${opts.device}`], { encoding: 'utf8' }).stdout?.trim() ?? null,
    gpu_memory_mib: { before: memBefore, loaded: memLoaded, end: memEnd },
    decode: batches,
    pipeline,
    batch_stats: gpt.stats,
  };
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/chattts-gpu.json'), JSON.stringify(result, null, 2) + '\n');
  console.log('wrote bench/results/chattts-gpu.json');
}

await main();
