/**
 * AudioEncoding owns every encoding resource of a gateway: the encoder worker threads and the
 * warm ffmpeg spares. `createAudioEncoder()` uses one shared instance, created on first use;
 * the gateway's shutdown calls `closeAudioEncoding()`.
 *
 * A format that needs ffmpeg (aac) on a host without it is refused before the response starts:
 * `assertFormatAvailable()` throws 400 `unsupported_format`, naming the package to install. It is
 * a 4xx because retrying cannot help until the operator installs ffmpeg.
 * @module
 */
import { spawn } from 'node:child_process';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AudioEncoder } from './audio-encoder.ts';
import { EncoderPool, type EncoderPoolOptions } from './encoder-pool.ts';
import { FfmpegAudioEncoder } from './ffmpeg-encoder.ts';
import { FfmpegSpares } from './ffmpeg-spares.ts';
import { ENCODER_BACKEND, OUTPUT_SAMPLE_RATE, type AudioFormat } from './formats.ts';
import { InlineAudioEncoder } from './inline-encoders.ts';
import { WorkerAudioEncoder } from './worker-encoder.ts';

export interface AudioEncodingOptions extends EncoderPoolOptions {
  /** ffmpeg executable (default `ffmpeg` on PATH). */
  ffmpeg?: string;
}

export class AudioEncoding {
  #pool: EncoderPool | undefined;
  readonly #options: AudioEncodingOptions;
  readonly #spares: FfmpegSpares;
  #ffmpegFound: Promise<boolean> | undefined;

  /** @example const encoding = new AudioEncoding({ threads: 2 }); … await encoding.close(); */
  constructor(options: AudioEncodingOptions = {}) {
    this.#options = options;
    this.#spares = new FfmpegSpares(options.ffmpeg ?? 'ffmpeg');
  }

  /** The worker pool, started on first use (a gateway that only serves wav never starts threads). */
  get pool(): EncoderPool {
    this.#pool ??= new EncoderPool(this.#options);
    return this.#pool;
  }

  createEncoder(format: AudioFormat, sampleRate: number): AudioEncoder {
    switch (ENCODER_BACKEND[format]) {
      case 'inline':
        return new InlineAudioEncoder(format as 'wav' | 'pcm', sampleRate, () => new WorkerAudioEncoder(this.pool, 'pcm', sampleRate));
      case 'ffmpeg':
        return new FfmpegAudioEncoder(this.#spares, format, sampleRate, () => new WorkerAudioEncoder(this.pool, 'pcm', sampleRate));
      case 'worker':
        return new WorkerAudioEncoder(this.pool, format as 'mp3' | 'opus' | 'flac', sampleRate);
    }
  }

  /**
   * Starts the encoder thread and compiles every worker codec with a few milliseconds of silence,
   * so the first response of each format does not pay it (seconds under tsx, ~100 ms compiled).
   */
  async warm(): Promise<void> {
    await Promise.all(
      (['mp3', 'opus', 'flac'] as const).map(
        (format) =>
          new Promise<void>((resolve, reject) => {
            const encoder = this.createEncoder(format, OUTPUT_SAMPLE_RATE);
            encoder.resume();
            encoder.once('end', () => resolve()).once('error', reject);
            encoder.end(Buffer.alloc(OUTPUT_SAMPLE_RATE / 10));
          }),
      ),
    );
  }

  /** Whether this host can encode `format` (false only for ffmpeg formats without ffmpeg). */
  async available(format: AudioFormat): Promise<boolean> {
    if (ENCODER_BACKEND[format] !== 'ffmpeg') return true;
    this.#ffmpegFound ??= probe(this.#spares.binary);
    return this.#ffmpegFound;
  }

  async assertAvailable(format: AudioFormat): Promise<void> {
    if (!(await this.available(format))) {
      throw new GatewayError(
        'VOX_ERR_UNSUPPORTED_FORMAT',
        `${format} needs ffmpeg on the gateway host (apt-get install ffmpeg); mp3, opus, flac, wav and pcm work without it`,
        { param: 'response_format' },
      );
    }
  }

  async close(): Promise<void> {
    this.#spares.close();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function probe(binary: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['-hide_banner', '-version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

let shared: AudioEncoding | undefined;

/**
 * The encoder for one response: write PCM s16le mono at `sampleRate`, read `format` bytes.
 * @example
 * await assertFormatAvailable('mp3');
 * const encoder = createAudioEncoder('mp3', OUTPUT_SAMPLE_RATE);
 * pipeline(pcmSource, encoder, res);
 */
export function createAudioEncoder(format: AudioFormat, sampleRate: number): AudioEncoder {
  shared ??= new AudioEncoding();
  return shared.createEncoder(format, sampleRate);
}

/** Throws 400 `unsupported_format` when this host cannot encode `format`. */
export async function assertFormatAvailable(format: AudioFormat): Promise<void> {
  shared ??= new AudioEncoding();
  await shared.assertAvailable(format);
}

/** Starts the shared encoder threads and compiles the codecs (gateway start-up; optional). */
export async function warmAudioEncoding(): Promise<void> {
  shared ??= new AudioEncoding();
  await shared.warm();
}

/** Stops the shared encoder threads and ffmpeg spares (gateway shutdown). */
export async function closeAudioEncoding(): Promise<void> {
  const closing = shared;
  shared = undefined;
  await closing?.close();
}
