/**
 * The TypeScript pipeline against golden vectors from upstream ChatTTS's own modules (see
 * models/chattts-tiny/golden/UPSTREAM.md for how they were made): the tiny pack's random weights
 * in the release file layout, run through upstream's Normalizer, Tokenizer, Embed, Speaker, GPT
 * generate loop (refine and code stages, three sentences batched as upstream batches them),
 * repetition penalty, DVAE decoder and encoder and infer orchestration (split_text, so the
 * sentences after the first are conditioned on its audio: spk_smp / txt_smp), with every
 * multinomial draw forced to a known uniform. Stage by stage: normalised text, refine tokens, the
 * first sentence's encoder codes and text sample, code tokens, hidden states and the waveform of
 * each sentence.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { runPipeline, type PipelineTrace } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import type { Rng } from '../../../../node-runtime/src/engines/chattts/rng.ts';
import { normalizeText, splitSentences } from '../../../../node-runtime/src/engines/chattts/text.ts';
import { loadTinyEngine, TINY_PACK } from './helpers.ts';

interface Segment {
  piece: string;
  normalized: string;
  refine_ids: number[];
  refined_text: string;
  codes: number[][];
  tokens: number;
}
interface Upstream {
  homophones: Record<string, string>;
  cases: Record<string, { text: string; segments: Segment[]; audio_prompt?: { txt_smp: string; codes: number[][] } }>;
  tensors: Record<string, { shape: number[]; offset: number; length: number }>;
}

const dir = path.join(TINY_PACK, 'golden');
const up = JSON.parse(readFileSync(path.join(dir, 'upstream.json'), 'utf8')) as Upstream;
const bin = readFileSync(path.join(dir, 'upstream.bin'));
function tensor(name: string): Float32Array {
  const e = up.tensors[name]!;
  const copy = new Uint8Array(e.length * 4);
  copy.set(bin.subarray(e.offset, e.offset + e.length * 4));
  return new Float32Array(copy.buffer);
}

/** The draw upstream's forced multinomial used for (stage, segment, step, row). */
function forcedU(stage: 'refine' | 'code', seg: number, step: number, row: number): number {
  const base = BigInt(seg * 1000003 + step * 7919 + row * 104729 + (stage === 'refine' ? 0 : 500009));
  return (Number((base * 2654435761n) % 4294967296n) + 0.5) / 4294967296;
}

function forcedDraws(stage: 'refine' | 'code', seg: number): Rng {
  const rows = stage === 'refine' ? 1 : 4;
  let n = 0;
  return {
    uniform() {
      const u = forcedU(stage, seg, Math.floor(n / rows), n % rows);
      n++;
      return u;
    },
    normal() {
      throw new Error('no normal draws in this case');
    },
  };
}

let engine: LocalChattts;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(async () => {
  await engine.dispose();
});

describe('chattts against upstream golden vectors', () => {
  for (const [name, c] of Object.entries(up.cases)) {
    it(`matches upstream stage by stage: ${name} (${c.segments.length} sentence${c.segments.length > 1 ? 's' : ''})`, async () => {
      const homophones = new Map(Object.entries(up.homophones));
      expect(splitSentences(c.text)).toEqual(c.segments.map((s) => s.piece.trim()));
      for (const s of c.segments) expect(normalizeText(s.piece, { homophones })).toBe(s.normalized.trim());
      const trace: PipelineTrace = { sentences: [] };
      const parts = { ...engine.parts(), homophones };
      const r = await runPipeline(parts, {
        text: c.text,
        voice: 'default',
        seed: 1,
        signal: new AbortController().signal,
        draws: forcedDraws,
        trace,
        stream: { chunkTokens: 0 },
      });
      expect(trace.sentences).toHaveLength(c.segments.length);
      // Several sentences: the first one's refined text and DVAE-encoded audio prompt the rest.
      if (c.audio_prompt) {
        expect(trace.audioPrompt?.text).toBe(c.audio_prompt.txt_smp);
        expect(trace.audioPrompt?.codes, 'DVAE encoder codes').toEqual(c.audio_prompt.codes);
      } else {
        expect(trace.audioPrompt).toBeUndefined();
      }
      let offset = 0;
      const report: string[] = [];
      for (const [i, s] of c.segments.entries()) {
        const t = trace.sentences[i]!;
        expect(t.refineIds, `refine ids ${i}`).toEqual(s.refine_ids);
        expect(t.codes, `codes ${i}`).toEqual(s.codes);
        const h = tensor(`${name}.${i}.hiddens`);
        let hMax = 0;
        let hScale = 0;
        t.hiddens.forEach((row, ti) =>
          row.forEach((x, j) => {
            hMax = Math.max(hMax, Math.abs(x - h[ti * row.length + j]!));
            hScale = Math.max(hScale, Math.abs(x));
          }),
        );
        const wav = tensor(`${name}.${i}.wav`);
        expect(wav.length).toBe(512 * s.tokens - 256);
        let wMax = 0;
        let wScale = 0;
        for (let k = 0; k < wav.length; k++) {
          wMax = Math.max(wMax, Math.abs(r.pcm[offset + k]! / 32767 - wav[k]!));
          wScale = Math.max(wScale, Math.abs(wav[k]!));
        }
        offset += 512 * s.tokens;
        report.push(
          `sentence ${i}: ${s.tokens} tokens, hidden max diff ${(hMax / hScale).toExponential(1)} rel, wav max diff ${wMax.toExponential(1)} (peak ${wScale.toFixed(3)})`,
        );
        expect(hMax / hScale).toBeLessThan(1e-4);
        // PCM truncation (1/32767) plus decoder/Vocos float differences.
        expect(wMax).toBeLessThan(2e-4 + 1e-3 * wScale);
      }
      expect(r.pcm.length).toBe(offset);
      console.log(`${name}: ${report.join('; ')}`);
    });
  }
});
