/**
 * MP3 through LAME compiled to WebAssembly (`wasm-media-encoders`): 64 kb/s CBR mono, enough for
 * speech at 24 kHz. The module is compiled once per worker thread; each response gets its own
 * instance (its own memory), dropped with the codec.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createEncoder } from 'wasm-media-encoders';
import type { Codec } from './codec.ts';

export const MP3_BITRATE_KBPS = 64;

let compiled: Promise<WebAssembly.Module> | undefined;

function lameModule(): Promise<WebAssembly.Module> {
  // The package embeds the same binary as base64 and recompiles it per encoder; the file beside
  // it is compiled once here and shared by every encoder of this thread.
  const entry = createRequire(import.meta.url).resolve('wasm-media-encoders');
  compiled ??= WebAssembly.compile(readFileSync(path.join(path.dirname(entry), '..', 'wasm', 'mp3.wasm')));
  return compiled;
}

export async function createMp3Codec(sampleRate: number): Promise<Codec> {
  const encoder = await createEncoder('audio/mpeg', await lameModule());
  encoder.configure({ sampleRate, channels: 1, bitrate: MP3_BITRATE_KBPS });
  let floats = new Float32Array(4096);
  return {
    encode(pcm) {
      if (pcm.length === 0) return new Uint8Array(0);
      if (floats.length < pcm.length) floats = new Float32Array(pcm.length);
      const f = floats.subarray(0, pcm.length);
      for (let i = 0; i < pcm.length; i++) f[i] = pcm[i]! / 32768;
      // encode() returns a view of the encoder's memory, valid until the next call.
      return encoder.encode([f]).slice();
    },
    finish: () => encoder.finalize().slice(),
    free() {},
  };
}
