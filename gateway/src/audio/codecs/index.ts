/**
 * Codec factories by format, for the encoder worker threads.
 * @module
 */
import type { Codec } from './codec.ts';
import { createFlacCodec } from './flac-codec.ts';
import { createMp3Codec } from './mp3-codec.ts';
import { createOpusCodec } from './opus-codec.ts';
import { createPcmCodec } from './pcm-codec.ts';

/** `pcm` here is the identity codec: resampling only, for the formats encoded elsewhere. */
export type WorkerFormat = 'mp3' | 'opus' | 'flac' | 'pcm';

export const CODECS: Readonly<Record<WorkerFormat, (sampleRate: number) => Promise<Codec>>> = {
  mp3: createMp3Codec,
  opus: createOpusCodec,
  flac: createFlacCodec,
  pcm: createPcmCodec,
};

export type { Codec } from './codec.ts';
