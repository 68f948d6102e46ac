/**
 * Real flite speech as PCM16 for the audio tests, made in-process with the node runtime's own
 * flite worker module (the WebAssembly build and WASI shim the engine uses).
 */
import { Piscina } from 'piscina';
import { decodeWav } from '../../../../node-runtime/src/audio/wav.ts';

export interface Speech {
  samples: Int16Array;
  sampleRate: number;
}

type Synthesize = (task: { text: string; voice: string; speed: number }) => Promise<Record<symbol, Uint8Array>>;
const FLITE_WORKER = new URL('../../../../node-runtime/src/engines/flite/flite-worker.mjs', import.meta.url).href;

export async function speech(text: string, voice: 'slt' | 'kal' = 'slt'): Promise<Speech> {
  const { default: synthesize } = (await import(FLITE_WORKER)) as { default: Synthesize };
  const moved = await synthesize({ text, voice, speed: 1 });
  const wav = decodeWav(moved[Piscina.valueSymbol]!);
  return { samples: wav.samples, sampleRate: wav.sampleRate };
}

/** Splits `pcm` into byte Buffers of varying, odd and even sizes (deterministic). */
export function* byteChunks(pcm: Int16Array, seed = 7): Generator<Buffer> {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  let x = seed;
  for (let at = 0; at < bytes.length;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (x % 9000);
    yield Buffer.from(bytes.subarray(at, at + size));
    at += size;
  }
}

/** Splits `pcm` into sample chunks of varying sizes (deterministic). */
export function* sampleChunks(pcm: Int16Array, seed = 7): Generator<Int16Array> {
  let x = seed;
  for (let at = 0; at < pcm.length;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (x % 4500);
    yield pcm.subarray(at, at + size);
    at += size;
  }
}
