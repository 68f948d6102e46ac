/**
 * The exporter's checkpoint mode on a synthetic checkpoint written with the release's file layout
 * and key names (weight norm unfolded into g/v, unused tensors present). Exporting that checkpoint
 * must give the same numbers as exporting the random model it was written from, and a renamed or
 * missing key must fail loudly, naming the key. Known non-parameter buffers (rotary inv_freq) are
 * dropped, unknown ones refused; the speaker statistics and the homophone map come from the user's
 * ChatTTS checkout (a stand-in with the same layout here), and without statistics checkpoint mode
 * refuses to run. Needs Debian's python3-torch and python3-onnx (installed by .ci/run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createChatttsEngine } from '../../../../node-runtime/src/engines/chattts/chattts-engine.ts';
import { FusedBatchedGpt } from '../../../../node-runtime/src/engines/chattts/fused-gpt.ts';
import { createLocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, REPO, TINY_PACK } from './helpers.ts';
import { readFileSync } from 'node:fs';
import { systemPackage } from '../../../support/system-package.ts';

const PY = '/usr/bin/python3';
const EXPORTER = path.join(REPO, 'node-runtime/export/export_chattts.py');
const hasTorch = systemPackage(
  'python3-torch',
  () => spawnSync(PY, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0,
  'apt-get install python3-torch python3-onnx',
);

const tmp = mkdtempSync(path.join(tmpdir(), 'chattts-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function exporter(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(PY, [EXPORTER, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function goldenTensors(dir: string): Map<string, Float32Array> {
  const index = JSON.parse(readFileSync(path.join(dir, 'golden/golden.json'), 'utf8')) as { tensors: Record<string, { offset: number; length: number }> };
  const bin = readFileSync(path.join(dir, 'golden/golden.bin'));
  const out = new Map<string, Float32Array>();
  for (const [name, e] of Object.entries(index.tensors)) {
    const copy = new Uint8Array(e.length * 4);
    copy.set(bin.subarray(e.offset, e.offset + e.length * 4));
    out.set(name, new Float32Array(copy.buffer));
  }
  return out;
}

describe.skipIf(!hasTorch)('exporter checkpoint mode', () => {
  const ckpt = path.join(tmp, 'ckpt');
  const packCkpt = path.join(tmp, 'pack-ckpt');
  const code = path.join(tmp, 'code');

  it('exports a synthetic release checkpoint to the same numbers as its random source', async () => {
    // The committed tiny pack was exported with --random --dims tiny and the default seed; the
    // checkpoint written from the same seed must reproduce its golden vectors.
    expect(exporter(['--random', '--dims', 'tiny', '--write-checkpoint', ckpt]).status).toBe(0);
    // Some releases carry rotary inv_freq buffers in the GPT file.
    execFileSync(PY, [
      '-c',
      [
        'import sys, torch; sys.path.insert(0, sys.argv[1]); import safetensors_io as s',
        'd = s.load(sys.argv[2])',
        'for i in range(2): d[f"layers.{i}.self_attn.rotary_emb.inv_freq"] = torch.ones(8)',
        's.save(sys.argv[2], d)',
      ].join('\n'),
      path.join(REPO, 'node-runtime/export'),
      path.join(ckpt, 'asset', 'gpt', 'model.safetensors'),
    ]);
    // The user's ChatTTS checkout, in its layout: spk_stat as a literal in config.py, the map in res/.
    const spkStat = readFileSync(path.join(ckpt, 'spk_stat.txt'), 'utf8').trim();
    mkdirSync(path.join(code, 'ChatTTS', 'config'), { recursive: true });
    mkdirSync(path.join(code, 'ChatTTS', 'res'), { recursive: true });
    writeFileSync(
      path.join(code, 'ChatTTS', 'config', 'config.py'),
      `class Config:\n    path: str = ""\n    spk_stat: str = (\n        "${spkStat.slice(0, 40)}"\n        "${spkStat.slice(40)}"\n    )\n`,
    );
    writeFileSync(path.join(code, 'ChatTTS', 'res', 'homophones_map.json'), JSON.stringify({ 世: '界' }));
    const r = exporter(['--checkpoint', ckpt, '--chattts-code', code, '--out', packCkpt, '--golden', '--name', 'chattts-ckpt']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gpt: ignored 2 known non-parameter buffer/);
    // DVAE.safetensors: the DVAE's own decoder is dropped, the mel buffers checked and dropped.
    expect(r.stdout).toMatch(/dvae: ignored \d+ tensor\(s\) outside the encoder path/);
    const manifest = JSON.parse(readFileSync(path.join(packCkpt, 'manifest.json'), 'utf8')) as { voices: string[]; parameters: Record<string, unknown> };
    expect(manifest.parameters.homophones).toBe('homophones.json');
    expect(manifest.voices).toContain('empty_spk');
    expect(JSON.parse(readFileSync(path.join(packCkpt, 'homophones.json'), 'utf8'))).toEqual({ 世: '界' });
    expect((JSON.parse(readFileSync(path.join(packCkpt, 'speakers.json'), 'utf8')) as { spk_stat: string }).spk_stat).toBe(spkStat);
    const a = goldenTensors(TINY_PACK);
    const b = goldenTensors(packCkpt);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, ta] of a) {
      const tb = b.get(name)!;
      let scale = 1;
      let diff = 0;
      for (let i = 0; i < ta.length; i++) {
        scale = Math.max(scale, Math.abs(ta[i]!));
        diff = Math.max(diff, Math.abs(ta[i]! - tb[i]!));
      }
      expect(diff / scale, name).toBeLessThan(1e-4);
    }
    // Its DVAE encoder gives the committed pack's codes for the same audio.
    const wav = Float32Array.from({ length: 512 * 30 - 256 }, (_, i) => 0.3 * Math.sin(i / 7) + 0.1 * Math.sin(i / 61));
    const encoders = await Promise.all([TINY_PACK, packCkpt].map(async (dir) => createLocalChattts({ pack: await verifyPack(dir), execution: CPU })));
    const codes: number[][][] = [];
    for (const e of encoders) {
      await e.load();
      codes.push(await e.parts().dvaeEncoder!.encode(wav));
      await e.dispose();
    }
    expect(codes[0]).toHaveLength(30);
    expect(codes[1]).toEqual(codes[0]);
    // The checkpoint pack is a valid pack the engine serves, on its fused GPT graph.
    expect((manifest.parameters.graphs as Record<string, string>).gpt_fused).toBe('gpt.fused.onnx');
    const engine = createChatttsEngine({ pack: await verifyPack(packCkpt), execution: CPU });
    await engine.load();
    const out = await engine.synthesize({ text: '你好，世界。', seed: 1, signal: new AbortController().signal });
    expect(out.pcm.length % 512).toBe(0);
    expect(engine.describe().details?.homophones).toBe(true);
    expect(engine.describe().details?.gpt_graph).toBe('fused');
    await engine.dispose();
    // Its fused graph computes the committed one's logits (weight-norm folding rounds by ~1e-7).
    const logits = await Promise.all(
      [TINY_PACK, packCkpt].map(async (dir) => {
        const session = await ort.InferenceSession.create(path.join(dir, 'gpt.fused.onnx'));
        const seq = new FusedBatchedGpt(session, { hidden: 64, layers: 2, heads: 4, headDim: 16, numVq: 4, audioVocab: 626 }, 1).begin();
        const prompt = Float32Array.from({ length: 7 * 64 }, (_, i) => Math.sin(i) * 0.5);
        const steps = [(await seq.step(prompt)).logits, (await seq.step(prompt.subarray(0, 64))).logits];
        seq.dispose();
        await session.release();
        return steps;
      }),
    );
    for (let k = 0; k < 2; k++) {
      const [a, b] = [logits[0]![k]!, logits[1]![k]!];
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
      expect(d / Math.max(...a.map(Math.abs))).toBeLessThan(1e-4);
    }
  }, 240_000);

  it('fails loudly, naming the keys, on an unexpected and a missing key', () => {
    // Rename one decoder key: the loader must name both the missing and the unexpected key.
    execFileSync(PY, [
      '-c',
      [
        'import sys; sys.path.insert(0, sys.argv[1]); import safetensors_io as s',
        'd = s.load(sys.argv[2]); d[sys.argv[4]] = d.pop(sys.argv[3]); s.save(sys.argv[2], d)',
      ].join('\n'),
      path.join(REPO, 'node-runtime/export'),
      path.join(ckpt, 'asset', 'Decoder.safetensors'),
      'decoder.decoder_block.0.weight',
      'decoder.decoder_block.0.gamma',
    ]);
    const r = exporter(['--checkpoint', ckpt, '--spk-stat', path.join(ckpt, 'spk_stat.txt'), '--out', path.join(tmp, 'bad')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/missing keys \['decoder\.decoder_block\.0\.weight'\]/);
    expect(r.stderr).toMatch(/unexpected keys \['decoder\.decoder_block\.0\.gamma'\]/);
  }, 120_000);

  it('refuses an unknown buffer, and checkpoint mode without speaker statistics', () => {
    execFileSync(PY, [
      '-c',
      [
        'import sys, torch; sys.path.insert(0, sys.argv[1]); import safetensors_io as s',
        'd = s.load(sys.argv[2]); d["layers.0.self_attn.mystery_buffer"] = torch.ones(8); s.save(sys.argv[2], d)',
      ].join('\n'),
      path.join(REPO, 'node-runtime/export'),
      path.join(ckpt, 'asset', 'gpt', 'model.safetensors'),
    ]);
    const unknown = exporter(['--checkpoint', ckpt, '--spk-stat', path.join(ckpt, 'spk_stat.txt'), '--out', path.join(tmp, 'bad2')]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/unexpected keys \['layers\.0\.self_attn\.mystery_buffer'\]/);
    const noStats = exporter(['--checkpoint', ckpt, '--out', path.join(tmp, 'bad3')]);
    expect(noStats.status).toBe(2);
    expect(noStats.stderr).toMatch(/--spk-stat FILE or --chattts-code DIR \(or --synthetic-spk-stat/);
  }, 120_000);

  it('refuses an unknown DVAE tensor and a mel filterbank other than the runtime one', () => {
    const ck = path.join(tmp, 'ckpt-dvae');
    expect(exporter(['--random', '--dims', 'tiny', '--write-checkpoint', ck]).status).toBe(0);
    const edit = (line: string) =>
      execFileSync(PY, [
        '-c',
        ['import sys, torch; sys.path.insert(0, sys.argv[1]); import safetensors_io as s', 'd = s.load(sys.argv[2])', line, 's.save(sys.argv[2], d)'].join(
          '\n',
        ),
        path.join(REPO, 'node-runtime/export'),
        path.join(ck, 'asset', 'DVAE.safetensors'),
      ]);
    const run = () => exporter(['--checkpoint', ck, '--spk-stat', path.join(ck, 'spk_stat.txt'), '--out', path.join(tmp, 'bad-dvae')]);
    edit('d["preprocessor_mel.mel_spec.mel_scale.fb"] = d["preprocessor_mel.mel_spec.mel_scale.fb"] * 1.01');
    const fb = run();
    expect(fb.status).not.toBe(0);
    expect(fb.stderr).toMatch(/mel_scale\.fb is not the HTK filterbank/);
    edit('d["preprocessor_mel.mel_spec.mel_scale.fb"] = d["preprocessor_mel.mel_spec.mel_scale.fb"] / 1.01; d["vq_layer.quantizer.mystery"] = torch.ones(4)');
    const unknown = run();
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/dvae: missing keys \[\], unexpected keys \['vq_layer\.quantizer\.mystery'\]/);
  }, 120_000);
});
