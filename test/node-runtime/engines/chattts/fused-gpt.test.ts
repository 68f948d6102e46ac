/**
 * The fused GPT graph (GroupQueryAttention, KV cache written in place, export/gpt_fused.py) says
 * the same arithmetic as torch.onnx's `gpt.onnx`: step by step the same logits within float
 * rounding, past the first growth of a block's capacity; whole requests the same tokens and PCM;
 * batched rows independent of the rows beside them. The tiny pack ships both graphs.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusedBatchedGpt } from '../../../../node-runtime/src/engines/chattts/fused-gpt.ts';
import { Gpt, type GptSequence } from '../../../../node-runtime/src/engines/chattts/gpt.ts';
import { createLocalChattts, type LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, TINY_PACK } from './helpers.ts';

const DIMS = { hidden: 64, layers: 2, heads: 4, headDim: 16, numVq: 4, audioVocab: 626 };
let exportedSession: ort.InferenceSession;
let fusedSession: ort.InferenceSession;

beforeAll(async () => {
  const opts = { intraOpNumThreads: 1 };
  exportedSession = await ort.InferenceSession.create(`${TINY_PACK}/gpt.onnx`, opts);
  fusedSession = await ort.InferenceSession.create(`${TINY_PACK}/gpt.fused.onnx`, opts);
});
afterAll(async () => {
  await exportedSession.release();
  await fusedSession.release();
});

/** Deterministic pseudo-random embeddings, so each sequence sees its own inputs in any batch. */
function embeds(seed: number, positions: number): Float32Array {
  let x = seed * 7919 + 1;
  return Float32Array.from({ length: positions * DIMS.hidden }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648 - 0.5) * 0.8;
  });
}

function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Prefill `prompt` positions, then `steps` single-position steps; the logits of each. */
async function drive(seq: GptSequence, seed: number, prompt: number, steps: number): Promise<Float32Array[]> {
  const logits = [(await seq.step(embeds(seed, prompt))).logits];
  for (let s = 1; s <= steps; s++) logits.push((await seq.step(embeds(seed * 1000 + s, 1))).logits);
  return logits;
}

describe('fused GPT graph', () => {
  it('gives the exported graph’s logits at every step, across a capacity growth', async () => {
    // 50 prompt positions + 40 steps crosses the 64-column capacity step once.
    const reference = await drive(new Gpt(exportedSession, DIMS).begin(), 1, 50, 40);
    const gpt = new FusedBatchedGpt(fusedSession, DIMS, 1);
    const seq = gpt.begin();
    const fused = await drive(seq, 1, 50, 40);
    seq.dispose();
    const worst = Math.max(...fused.map((l, i) => relDiff(l, reference[i]!)));
    expect(worst).toBeLessThan(1e-5);
    expect(gpt.stats.rebuilds).toBe(1);
  });

  it('keeps each row independent of the batch: joins, leaves and unequal lengths', async () => {
    const plans = [
      { seed: 11, prompt: 9, steps: 30 },
      { seed: 12, prompt: 23, steps: 12 },
      { seed: 13, prompt: 4, steps: 45 },
    ];
    const alone = await Promise.all(plans.map((p) => drive(new Gpt(exportedSession, DIMS).begin(), p.seed, p.prompt, p.steps)));
    const gpt = new FusedBatchedGpt(fusedSession, DIMS, 4);
    const together = await Promise.all(
      plans.map(async (p, i) => {
        // The third joins late, while the other two are decoding.
        if (i === 2) await new Promise((r) => setTimeout(r, 5));
        const seq = gpt.begin();
        try {
          return await drive(seq, p.seed, p.prompt, p.steps);
        } finally {
          seq.dispose();
        }
      }),
    );
    for (const [i, logits] of together.entries()) {
      expect(Math.max(...logits.map((l, s) => relDiff(l, alone[i]![s]!)))).toBeLessThan(1e-5);
    }
    expect(gpt.stats.rows / gpt.stats.forwards).toBeGreaterThan(1.5);
    expect(gpt.stats.active).toBe(0);
  });
});

describe('fused GPT in the engine', () => {
  let fused: LocalChattts;
  let exported: LocalChattts;
  beforeAll(async () => {
    const pack = await verifyPack(TINY_PACK);
    const withGraph = (graph: string) => {
      const manifest = structuredClone(pack.manifest);
      (manifest.parameters as Record<string, unknown>).gpt_graph = graph;
      return createLocalChattts({ pack: { ...pack, manifest }, execution: CPU });
    };
    fused = withGraph('fused');
    exported = withGraph('exported');
    await Promise.all([fused.load(), exported.load()]);
  });
  afterAll(async () => {
    await Promise.all([fused.dispose(), exported.dispose()]);
  });

  it('is the default, and speaks the exported graph’s tokens and samples', async () => {
    expect(fused.describe().details?.gpt_graph).toBe('fused');
    expect(exported.describe().details?.gpt_graph).toBe('exported');
    const request = { text: 'hello world. 你好，世界。', seed: 5, sampling: { max_new_tokens: 40, min_new_tokens: 40 } };
    const [a, b] = await Promise.all([fused, exported].map((e) => e.run({ ...request, signal: new AbortController().signal })));
    expect(a!.stats.tokens).toBe(b!.stats.tokens);
    let worst = 0;
    for (let i = 0; i < b!.pcm.length; i++) worst = Math.max(worst, Math.abs(a!.pcm[i]! - b!.pcm[i]!));
    expect(a!.pcm.length).toBe(b!.pcm.length);
    expect(worst).toBeLessThanOrEqual(2);
  });
});
