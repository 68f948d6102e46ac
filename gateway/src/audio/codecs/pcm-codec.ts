/**
 * The identity codec: PCM in, the same PCM out as bytes. Lets wav, pcm and aac resample inside an
 * encoder thread (the session's InputRate does the work) when an engine at another rate joins.
 * @module
 */
import type { Codec } from './codec.ts';

export async function createPcmCodec(): Promise<Codec> {
  return {
    encode: (pcm) => new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength),
    finish: () => new Uint8Array(0),
    free() {},
  };
}
