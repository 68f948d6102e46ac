/**
 * Streaming on the tiny pack: chunks every few decode steps whose concatenation is the one-shot
 * answer byte for byte; with enough left context and lookahead the streamed waveform equals a
 * whole-sentence decode, and with the pack's defaults the seam (streamed vs whole-sentence decode)
 * is measured and bounded; through the worker the chunks arrive as chunk messages before the end,
 * and a reader that stops early cancels the worker's decode loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatttsEngine } from '../../../../node-runtime/src/engines/chattts/chattts-engine.ts';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import type { PipelineRequest } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import type { Engine } from '../../../../node-runtime/src/engines/engine.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, loadTinyEngine, TINY_PACK } from './helpers.ts';

let local: LocalChattts;
let worker: Engine;
const signal = () => new AbortController().signal;
// Fixed length, several sentences: long enough for several growing chunks per sentence.
// The refine stage is off here: it changes nothing about chunking and only costs time.
const LONG: Omit<PipelineRequest, 'signal'> = {
  text: 'hello world. 你好，世界。',
  seed: 5,
  refineText: false,
  sampling: { max_new_tokens: 120, min_new_tokens: 120 },
};

async function collect(it: AsyncIterable<Int16Array>): Promise<Int16Array[]> {
  const out: Int16Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

function concat(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Max and RMS of the sample-wise difference, and the RMS of the reference, in int16 units. */
function seam(a: Int16Array, b: Int16Array): { max: number; rms: number; signalRms: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let se = 0;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    max = Math.max(max, Math.abs(d));
    se += d * d;
    ss += b[i]! * b[i]!;
  }
  return { max, rms: Math.sqrt(se / a.length), signalRms: Math.sqrt(ss / a.length) };
}

beforeAll(async () => {
  local = await loadTinyEngine();
  worker = createChatttsEngine({ pack: await verifyPack(TINY_PACK), execution: CPU });
  await worker.load();
});
afterAll(async () => {
  await local.dispose();
  await worker.dispose();
});

describe('chattts streaming', () => {
  it('yields chunks every few decode steps whose concatenation is the one-shot answer', async () => {
    const chunks = await collect(local.stream({ ...LONG, signal: signal() }));
    const whole = await local.run({ ...LONG, signal: signal() });
    // 120 tokens per sentence with chunks of 24, 48 (lookahead 12), then the rest: 3 per sentence.
    expect(chunks.length).toBe(6);
    expect(chunks[0]!.length).toBe(24 * 512);
    expect(chunks[1]!.length).toBe(48 * 512);
    expect(whole.stats.chunks).toBe(6);
    expect(Buffer.from(concat(chunks).buffer).equals(Buffer.from(whole.pcm.buffer))).toBe(true);
  });

  it('equals the whole-sentence decode when left context and lookahead cover the receptive field', async () => {
    const oneShot = await local.run({ ...LONG, signal: signal(), stream: { chunkTokens: 0 } });
    expect(oneShot.stats.chunks).toBe(2);
    const exact = await local.run({ ...LONG, signal: signal(), stream: { chunkTokens: 8, maxChunkTokens: 8, leftContext: 40, lookahead: 40 } });
    expect(exact.stats.chunks).toBeGreaterThan(20);
    const s = seam(exact.pcm, oneShot.pcm);
    console.log(`seam with 40 tokens of context each side: max ${s.max}, rms ${s.rms.toFixed(3)} (int16 units)`);
    // Float rounding of differently sized convolutions only.
    expect(s.max).toBeLessThanOrEqual(2);
  });

  it('keeps the seam small with the pack defaults, and a window without context is worse', async () => {
    const oneShot = await local.run({ ...LONG, signal: signal(), stream: { chunkTokens: 0 } });
    const streamed = await local.run({ ...LONG, signal: signal() });
    const bare = await local.run({ ...LONG, signal: signal(), stream: { chunkTokens: 8, maxChunkTokens: 8, leftContext: 0, lookahead: 1 } });
    const d = seam(streamed.pcm, oneShot.pcm);
    const b = seam(bare.pcm, oneShot.pcm);
    console.log(
      `seam, pack defaults (first chunk 24, left 24, lookahead 12): max ${d.max}, rms ${d.rms.toFixed(2)}; no context: max ${b.max}, rms ${b.rms.toFixed(2)}; signal rms ${d.signalRms.toFixed(1)}`,
    );
    expect(d.signalRms).toBeGreaterThan(10);
    expect(d.rms).toBeLessThan(0.01 * d.signalRms);
    expect(b.rms).toBeGreaterThan(d.rms);
  });

  it('streams through the worker: several chunk messages, same bytes as synthesize()', async () => {
    const req = { text: 'hello world. 你好，世界。今天天气很不错。', seed: 11 };
    const chunks = await collect(worker.stream({ ...req, signal: signal() }));
    const whole = await worker.synthesize({ ...req, signal: signal() });
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.from(concat(chunks).buffer).equals(Buffer.from(whole.pcm.buffer))).toBe(true);
  });

  it('cancels the worker decode loop when the reader stops after the first chunk', async () => {
    const text = Array.from({ length: 12 }, (_, i) => `sentence number ${i + 1}.`).join(' ');
    let t0 = performance.now();
    const full = await collect(worker.stream({ text, seed: 2, signal: signal() }));
    const fullMs = performance.now() - t0;
    expect(full.length).toBeGreaterThan(12);
    t0 = performance.now();
    for await (const c of worker.stream({ text, seed: 2, signal: signal() })) {
      expect(c.length).toBeGreaterThan(0);
      break;
    }
    // The worker serves requests in order of their steps: had the abandoned stream kept decoding,
    // this request would finish after it, i.e. after about a full run.
    const next = await worker.synthesize({ text: 'hello.', seed: 3, signal: signal() });
    const cutMs = performance.now() - t0;
    expect(next.pcm.length).toBeGreaterThan(0);
    console.log(`12 sentences: ${fullMs.toFixed(0)} ms whole; first chunk, stop, next request: ${cutMs.toFixed(0)} ms`);
    expect(cutMs).toBeLessThan(0.5 * fullMs);
  });

  it('an aborted signal stops the stream with its reason', async () => {
    const ac = new AbortController();
    const reason = new Error('client left');
    const text = Array.from({ length: 12 }, (_, i) => `sentence number ${i + 1}.`).join(' ');
    const it = worker.stream({ text, seed: 4, signal: ac.signal })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    ac.abort(reason);
    const drain = async () => {
      for (;;) if ((await it.next()).done) return 'finished';
    };
    await expect(drain()).rejects.toBe(reason);
  });
});
