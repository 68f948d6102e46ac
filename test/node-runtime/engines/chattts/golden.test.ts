/**
 * Golden-vector equivalence of the TypeScript pipeline against the PyTorch reference that
 * exported the tiny pack (node-runtime/export/golden.py). Tolerances: token ids exact; GPT
 * hidden/logits 1e-4 absolute (fp32 through different kernels, 2 layers); sampler probabilities
 * 1e-5 with identical picks; decoder/Vocos 1e-4 relative to the signal's scale; iSTFT waveform
 * 1e-4 relative to its peak.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { istft } from '../../../../node-runtime/src/engines/chattts/istft.ts';
import { codePrompt } from '../../../../node-runtime/src/engines/chattts/prompt.ts';
import { pickIndex, processRow } from '../../../../node-runtime/src/engines/chattts/sampler.ts';
import { decodeSpeaker, decodeSpeakerStats, normalizeSpeaker } from '../../../../node-runtime/src/engines/chattts/speaker.ts';
import { loadTokenizer, SPECIAL } from '../../../../node-runtime/src/engines/chattts/tokenizer.ts';
import { CPU, loadGolden, loadTinyEngine, maxAbs, maxAbsDiff, TINY_PACK } from './helpers.ts';
import { readFileSync } from 'node:fs';
import { createLocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import path from 'node:path';

const golden = loadGolden();
let engine: LocalChattts;

beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(async () => {
  await engine.dispose();
});

describe('tokenizer', () => {
  it('gives the reference ids for every case, with no truncation or padding', async () => {
    const tok = await loadTokenizer(path.join(TINY_PACK, 'tokenizer.json'));
    for (const c of golden.cases.tokenizer as { text: string; ids: number[] }[]) {
      expect(tok.encode(c.text), JSON.stringify(c.text.slice(0, 40))).toEqual(c.ids);
    }
    const long = (golden.cases.tokenizer as { ids: number[] }[]).map((c) => c.ids.length);
    expect(Math.max(...long)).toBeGreaterThan(256);
  });

  it('looks special tokens up by name', async () => {
    const tok = await loadTokenizer(path.join(TINY_PACK, 'tokenizer.json'));
    expect(tok.encode(SPECIAL.spkEmb)).toEqual([tok.id(SPECIAL.spkEmb)]);
    expect(() => tok.id('[no_such_token]')).toThrow(/no \[no_such_token\]/);
  });
});

describe('speakers and prompt', () => {
  const speakers = JSON.parse(readFileSync(path.join(TINY_PACK, 'speakers.json'), 'utf8'));

  it('decodes the pack voice and normalises it', () => {
    const raw = decodeSpeaker(speakers.voices.default, 64);
    expect(maxAbsDiff(raw, golden.tensor('speaker.default.raw'))).toBe(0);
    expect(maxAbsDiff(normalizeSpeaker(raw), golden.tensor('speaker.default.normalized'))).toBeLessThan(1e-7);
  });

  it('decodes a 768-d LZMA-compressed speaker string (real-release form, prefix 蘁淰)', () => {
    const s = golden.cases.speaker768.string as string;
    expect(s.startsWith('蘁淰')).toBe(true);
    expect(maxAbsDiff(decodeSpeaker(s, 768), golden.tensor('speaker768.raw'))).toBe(0);
  });

  it('decodes spk_stat', () => {
    const st = decodeSpeakerStats(speakers.spk_stat, 64);
    expect(maxAbsDiff(st.std, golden.tensor('spk_stat.std'))).toBe(0);
    expect(maxAbsDiff(st.mean, golden.tensor('spk_stat.mean'))).toBe(0);
  });

  it('builds the code prompt and its embeddings with the speaker row', () => {
    const c = golden.cases.prompt;
    const prompt = codePrompt(c.text, { prompt: '[speed_5]', withSpeaker: true });
    expect(prompt).toBe(c.prompt);
    const parts = engine.parts();
    const ids = parts.tokenizer.encode(prompt);
    expect(ids).toEqual(c.ids);
    const emb = parts.embeddings.text(ids, { id: parts.tokenizer.id(SPECIAL.spkEmb), vector: parts.voices.get('default')! });
    expect(maxAbsDiff(emb, golden.tensor('prompt.embeds'))).toBeLessThan(1e-7);
  });
});

describe('gpt', () => {
  it('matches prefill and teacher-forced decode steps', async () => {
    const parts = engine.parts();
    const seq = parts.gpt.begin();
    let embeds = golden.tensor('prompt.embeds');
    const forced = golden.cases.gpt.forced_codes as number[][];
    for (let k = 0; k < golden.cases.gpt.steps; k++) {
      const out = await seq.step(embeds);
      expect(maxAbsDiff(out.hidden, golden.tensor(`gpt.step${k}.hidden`)), `hidden ${k}`).toBeLessThan(1e-4);
      expect(maxAbsDiff(out.logits, golden.tensor(`gpt.step${k}.logits`)), `logits ${k}`).toBeLessThan(1e-4);
      embeds = parts.embeddings.codes(forced[k]!);
    }
    seq.dispose();
    seq.dispose(); // idempotent
    await expect(seq.step(embeds)).rejects.toThrow(/after dispose/);
  });

  it('head_text.onnx matches the reference text logits', async () => {
    const s = await ort.InferenceSession.create(path.join(TINY_PACK, 'head_text.onnx'));
    const h = golden.tensor('gpt.step0.hidden');
    const out = await s.run({ hidden: new ort.Tensor('float32', h, [1, h.length]) });
    expect(maxAbsDiff(out.logits_text!.data as Float32Array, golden.tensor('head_text.logits'))).toBeLessThan(1e-4);
    await s.release();
  });
});

describe('sampler', () => {
  it('reproduces the processed distributions and picks for fixed uniform draws', () => {
    const logits = golden.tensor('sampler.logits');
    const cases = golden.cases.sampler as { params: any; step: number; history: number[][]; uniforms: number[]; picks: number[] }[];
    cases.forEach((c, j) => {
      const probs = golden.tensor(`sampler.case${j}.probs`);
      for (let i = 0; i < 4; i++) {
        const row = processRow(
          logits.subarray(i * 626, (i + 1) * 626),
          c.history.map((h) => h[i]!),
          c.step,
          625,
          {
            temperature: c.params.temperature,
            topP: c.params.top_p,
            topK: c.params.top_k,
            repetitionPenalty: c.params.repetition_penalty,
            minNewTokens: c.params.min_new_tokens,
          },
        );
        expect(maxAbsDiff(row, probs.subarray(i * 626, (i + 1) * 626)), `case ${j} row ${i}`).toBeLessThan(1e-5);
        // Same support: what the reference removed, we removed.
        for (let v = 0; v < 626; v++) expect(row[v]! > 0, `case ${j} row ${i} token ${v}`).toBe(probs[i * 626 + v]! > 0);
        expect(pickIndex(row, c.uniforms[i]!), `case ${j} pick ${i}`).toBe(c.picks[i]);
      }
    });
  });
});

describe('decoder, vocos and iSTFT', () => {
  it('turn the reference hiddens into the reference mel, spectrum and waveform', async () => {
    const parts = engine.parts();
    const hid = golden.tensor('vocode.hiddens');
    const t = golden.cases.vocode.tokens as number;
    const h = hid.length / t;
    const rows = Array.from({ length: t }, (_, i) => hid.subarray(i * h, (i + 1) * h));
    const out = await parts.vocoder.run(rows);
    expect(out.frames).toBe(2 * t);
    const rel = (a: Float32Array, name: string) => maxAbsDiff(a, golden.tensor(name)) / Math.max(1, maxAbs(golden.tensor(name)));
    expect(rel(out.mel, 'vocode.mel')).toBeLessThan(1e-4);
    expect(rel(out.mag, 'vocode.mag')).toBeLessThan(1e-4);
    expect(rel(out.cos, 'vocode.cos')).toBeLessThan(1e-4);
    expect(rel(out.sin, 'vocode.sin')).toBeLessThan(1e-4);
    const wavRef = golden.tensor('vocode.wav');
    expect(out.wav.length).toBe(512 * t - 256);
    expect(maxAbsDiff(out.wav, wavRef) / maxAbs(wavRef)).toBeLessThan(1e-4);
    // The iSTFT alone, on the reference spectrum, is tighter still.
    const exact = istft(golden.tensor('vocode.mag'), golden.tensor('vocode.cos'), golden.tensor('vocode.sin'), 2 * t);
    expect(maxAbsDiff(exact, wavRef) / maxAbs(wavRef)).toBeLessThan(1e-5);
  });

  it('teacher-forced GPT hiddens of the fixed code sequence match the reference', async () => {
    const parts = engine.parts();
    const codes = golden.cases.vocode.codes as number[][];
    const seq = parts.gpt.begin();
    let embeds = golden.tensor('prompt.embeds');
    const hid = golden.tensor('vocode.hiddens');
    const h = parts.gpt.dims.hidden;
    for (let k = 0; k < codes.length; k++) {
      const out = await seq.step(embeds);
      expect(maxAbsDiff(out.hidden, hid.subarray(k * h, (k + 1) * h))).toBeLessThan(1e-4);
      embeds = parts.embeddings.codes(codes[k]!);
    }
    seq.dispose();
  });
});

// Weight quantisation trades accuracy for speed; bounds are per variant. Random Gaussian weights
// are a worst case for 4-bit blocks: ~10% rms error per weight (vs 0.6% for int8 per column),
// compounding through the layers; the int4 bound only catches a broken graph, not quality.
describe.each([
  ['int8', 0.1],
  ['int4', 0.6],
] as const)('%s weight-quantised GPT', (precision, bound) => {
  it('stays close to the fp32 golden vectors (drift reported, bounded)', async () => {
    const pack = await verifyPack(TINY_PACK);
    const manifest = structuredClone(pack.manifest);
    (manifest.parameters as Record<string, unknown>).gpt_precision = precision;
    const quantised = createLocalChattts({ pack: { ...pack, manifest }, execution: CPU });
    await quantised.load();
    const parts = quantised.parts();
    const seq = parts.gpt.begin();
    let embeds = golden.tensor('prompt.embeds');
    const forced = golden.cases.gpt.forced_codes as number[][];
    let worstLogits = 0;
    let worstHidden = 0;
    let agree = 0;
    for (let k = 0; k < golden.cases.gpt.steps; k++) {
      const out = await seq.step(embeds);
      const refL = golden.tensor(`gpt.step${k}.logits`);
      const refH = golden.tensor(`gpt.step${k}.hidden`);
      worstLogits = Math.max(worstLogits, maxAbsDiff(out.logits, refL) / maxAbs(refL));
      worstHidden = Math.max(worstHidden, maxAbsDiff(out.hidden, refH) / maxAbs(refH));
      for (let q = 0; q < 4; q++) {
        const arg = (a: Float32Array) => a.subarray(q * 626, (q + 1) * 626).reduce((best, v, i, arr) => (v > arr[best]! ? i : best), 0);
        if (arg(out.logits) === arg(refL)) agree++;
      }
      embeds = parts.embeddings.codes(forced[k]!);
    }
    seq.dispose();
    await quantised.dispose();
    console.log(
      `${precision} drift on golden GPT steps: logits rel ${worstLogits.toExponential(2)}, hidden rel ${worstHidden.toExponential(2)}, greedy agreement ${agree}/${4 * golden.cases.gpt.steps}`,
    );
    expect(worstLogits).toBeLessThan(bound);
    expect(worstHidden).toBeLessThan(bound);
  });
});
