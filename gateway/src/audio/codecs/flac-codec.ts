/**
 * FLAC through libFLAC compiled by Emscripten (`libflacjs`, the asm.js build: its WebAssembly
 * build fetches its .wasm with fetch(), which Node cannot do from a file path). Compression level
 * 5, 16-bit mono. The encoder is initialised for a non-seekable stream, so STREAMINFO says
 * "length unknown" and nothing is rewritten at the end: valid for streaming (FLAC format, total
 * samples 0 = unknown).
 * @module
 */
import { createRequire } from 'node:module';
import type { Codec } from './codec.ts';
import { concatBytes } from './codec.ts';

interface LibFlac {
  isReady(): boolean;
  on(event: 'ready', listener: () => void): void;
  create_libflac_encoder(rate: number, channels: number, bps: number, level: number, total: number, verify: boolean, blockSize: number): number;
  init_encoder_stream(encoder: number, write: (data: Uint8Array, bytes: number) => void, metadata: () => void): number;
  FLAC__stream_encoder_process_interleaved(encoder: number, samples: Int32Array, frames: number): boolean;
  FLAC__stream_encoder_finish(encoder: number): boolean;
  FLAC__stream_encoder_delete(encoder: number): void;
}

export const FLAC_COMPRESSION_LEVEL = 5;

let library: Promise<LibFlac> | undefined;

function libflac(): Promise<LibFlac> {
  library ??= new Promise((resolve) => {
    const flac = (createRequire(import.meta.url)('libflacjs') as (variant: string) => LibFlac)('min');
    if (flac.isReady()) resolve(flac);
    else flac.on('ready', () => resolve(flac));
  });
  return library;
}

export async function createFlacCodec(sampleRate: number): Promise<Codec> {
  const flac = await libflac();
  const encoder = flac.create_libflac_encoder(sampleRate, 1, 16, FLAC_COMPRESSION_LEVEL, 0, false, 0);
  if (!encoder) throw new Error('libFLAC refused the encoder settings');
  let pending: Uint8Array[] = [];
  const status = flac.init_encoder_stream(
    encoder,
    (data, bytes) => pending.push(data.slice(0, bytes)),
    () => {},
  );
  if (status !== 0) throw new Error(`libFLAC init failed (${status})`);
  let wide = new Int32Array(4096);
  let alive = true;
  const take = (): Uint8Array => {
    const out = concatBytes(pending);
    pending = [];
    return out;
  };
  return {
    encode(pcm) {
      if (pcm.length > 0) {
        if (wide.length < pcm.length) wide = new Int32Array(pcm.length);
        const w = wide.subarray(0, pcm.length);
        for (let i = 0; i < pcm.length; i++) w[i] = pcm[i]!;
        if (!flac.FLAC__stream_encoder_process_interleaved(encoder, w, pcm.length)) throw new Error('libFLAC failed to encode');
      }
      return take();
    },
    finish() {
      flac.FLAC__stream_encoder_finish(encoder);
      return take();
    },
    free() {
      if (!alive) return;
      alive = false;
      flac.FLAC__stream_encoder_delete(encoder);
    },
  };
}
