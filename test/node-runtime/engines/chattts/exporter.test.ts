/**
 * The exporter's checkpoint mode on a synthetic checkpoint written with the release's file layout
 * and key names (weight norm unfolded into g/v, unused tensors present). Exporting that checkpoint
 * must give the same numbers as exporting the random model it was written from, and a renamed or
 * missing key must fail loudly, naming the key. Needs Debian's python3-torch and python3-onnx;
 * skipped (with a note) where they are absent, as on a bare CI machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChatttsEngine } from '../../../../node-runtime/src/engines/chattts/chattts-engine.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, REPO, TINY_PACK } from './helpers.ts';
import { readFileSync } from 'node:fs';

const PY = '/usr/bin/python3';
const EXPORTER = path.join(REPO, 'node-runtime/export/export_chattts.py');
const hasTorch = spawnSync(PY, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn('exporter tests skipped: /usr/bin/python3 lacks torch/onnx (apt-get install python3-torch python3-onnx)');

const tmp = mkdtempSync(path.join(tmpdir(), 'chattts-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function exporter(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(PY, [EXPORTER, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
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

  it('exports a synthetic release checkpoint to the same numbers as its random source', async () => {
    // The committed tiny pack was exported with --random --dims tiny and the default seed; the
    // checkpoint written from the same seed must reproduce its golden vectors.
    expect(exporter(['--random', '--dims', 'tiny', '--write-checkpoint', ckpt]).status).toBe(0);
    const r = exporter(['--checkpoint', ckpt, '--spk-stat', path.join(ckpt, 'spk_stat.txt'), '--out', packCkpt, '--golden', '--name', 'chattts-ckpt']);
    expect(r.status, r.stderr).toBe(0);
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
    // The checkpoint pack is a valid pack the engine serves.
    const engine = createChatttsEngine({ pack: await verifyPack(packCkpt), execution: CPU });
    await engine.load();
    const out = await engine.synthesize({ text: '你好。', seed: 1, signal: new AbortController().signal });
    expect(out.pcm.length % 512).toBe(0);
    await engine.dispose();
  }, 240_000);

  it('fails loudly, naming the keys, on an unexpected and a missing key', () => {
    // Rename one decoder key: the loader must name both the missing and the unexpected key.
    execFileSync(PY, ['-c', [
      'import sys; sys.path.insert(0, sys.argv[1]); import safetensors_io as s',
      'd = s.load(sys.argv[2]); d[sys.argv[4]] = d.pop(sys.argv[3]); s.save(sys.argv[2], d)',
    ].join('\n'), path.join(REPO, 'node-runtime/export'), path.join(ckpt, 'asset', 'Decoder.safetensors'), 'decoder.decoder_block.0.weight', 'decoder.decoder_block.0.gamma']);
    const r = exporter(['--checkpoint', ckpt, '--out', path.join(tmp, 'bad')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/missing keys \['decoder\.decoder_block\.0\.weight'\]/);
    expect(r.stderr).toMatch(/unexpected keys \['decoder\.decoder_block\.0\.gamma'\]/);
  }, 120_000);
});
