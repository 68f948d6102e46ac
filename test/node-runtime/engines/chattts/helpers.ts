/**
 * Shared fixtures for the chattts tests: the committed tiny random-weight pack (verified through
 * the runtime's own pack loader) and its golden vectors from the PyTorch reference.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { createLocalChattts, type LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import type { ExecutionSettings } from '../../../../node-runtime/src/engines/engine.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const TINY_PACK = path.join(REPO, 'models/chattts-tiny');

export const CPU: ExecutionSettings = {
  providers: ['cpu'],
  deviceId: 0,
  gpuMemLimitBytes: 0,
  arenaExtendStrategy: 'kSameAsRequested',
  intraOpThreads: 1,
};

export async function loadTinyEngine(execution: ExecutionSettings = CPU): Promise<LocalChattts> {
  const pack = await verifyPack(TINY_PACK);
  const engine = createLocalChattts({ pack, execution });
  await engine.load();
  return engine;
}

interface TensorEntry {
  dtype: 'f32' | 'i32';
  shape: number[];
  offset: number;
  length: number;
}

export interface Golden {
  cases: Record<string, any>;
  tensor(name: string): Float32Array;
  shape(name: string): number[];
}

export function loadGolden(): Golden {
  const dir = path.join(TINY_PACK, 'golden');
  const index = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { tensors: Record<string, TensorEntry>; cases: Record<string, any> };
  const bin = readFileSync(path.join(dir, 'golden.bin'));
  const entry = (name: string): TensorEntry => {
    const e = index.tensors[name];
    if (!e) throw new Error(`golden tensor ${name} missing`);
    return e;
  };
  return {
    cases: index.cases,
    tensor(name) {
      const e = entry(name);
      const copy = new Uint8Array(e.length * 4);
      copy.set(bin.subarray(e.offset, e.offset + e.length * 4));
      return e.dtype === 'f32' ? new Float32Array(copy.buffer) : Float32Array.from(new Int32Array(copy.buffer));
    },
    shape: (name) => entry(name).shape,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
