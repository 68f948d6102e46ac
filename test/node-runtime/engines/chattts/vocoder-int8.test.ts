/**
 * `vocoder_precision: int8` (the decoder's and Vocos's MatMuls weight-quantised by the exporter):
 * the tiny pack's int8 graphs give the same tokens (the GPT is untouched) and a waveform within a
 * bounded drift of the fp32 one; the manifest refuses int8 without the graphs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalChattts, type LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { ChatttsParametersSchema } from '../../../../node-runtime/src/engines/chattts/params.ts';
import type { PipelineTrace } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, loadTinyEngine, TINY_PACK } from './helpers.ts';

let fp32: LocalChattts;
let int8: LocalChattts;
beforeAll(async () => {
  fp32 = await loadTinyEngine();
  const pack = await verifyPack(TINY_PACK);
  const manifest = structuredClone(pack.manifest);
  (manifest.parameters as Record<string, unknown>).vocoder_precision = 'int8';
  int8 = createLocalChattts({ pack: { ...pack, manifest }, execution: CPU });
  await int8.load();
});
afterAll(async () => {
  await fp32?.dispose();
  await int8?.dispose();
});

describe('int8 decoder and Vocos', () => {
  it('keeps the tokens and stays within a bounded waveform drift of fp32', async () => {
    expect(int8.describe().details?.vocoder_precision).toBe('int8');
    const run = async (e: LocalChattts) => {
      const trace: PipelineTrace = { sentences: [] };
      const r = await e.run({ text: 'hello world, this is a test.', seed: 4, trace, signal: new AbortController().signal });
      return { pcm: r.pcm, codes: trace.sentences.map((s) => s.codes) };
    };
    const a = await run(fp32);
    const b = await run(int8);
    expect(b.codes).toEqual(a.codes);
    expect(b.pcm.length).toBe(a.pcm.length);
    let peak = 0;
    let max = 0;
    let se = 0;
    let ss = 0;
    for (let i = 0; i < a.pcm.length; i++) {
      const d = b.pcm[i]! - a.pcm[i]!;
      peak = Math.max(peak, Math.abs(a.pcm[i]!));
      max = Math.max(max, Math.abs(d));
      se += d * d;
      ss += a.pcm[i]! * a.pcm[i]!;
    }
    const rmsRel = Math.sqrt(se / ss);
    console.log(`int8 vocoder drift (tiny pack): max ${max} LSB of peak ${peak}, rms ${(rmsRel * 100).toFixed(2)}% of the signal's`);
    expect(peak).toBeGreaterThan(0);
    expect(rmsRel).toBeLessThan(0.1);
    expect(a.pcm).not.toEqual(b.pcm);
  });

  it('refuses vocoder_precision int8 in a pack without the int8 graphs', async () => {
    const pack = await verifyPack(TINY_PACK);
    const params = structuredClone(pack.manifest.parameters) as { graphs: Record<string, string> };
    delete params.graphs.decoder_int8;
    const r = ChatttsParametersSchema.safeParse({ ...params, vocoder_precision: 'int8' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('decoder_int8');
  });
});
