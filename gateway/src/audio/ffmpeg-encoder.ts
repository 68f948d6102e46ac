/**
 * An AudioEncoder backed by an ffmpeg subprocess (a warm spare from FfmpegSpares): PCM to its
 * stdin, the encoded stream from its stdout. Used for AAC, the format with no good encoder on
 * npm (docs/audio-formats.md). destroy() kills the process. ffmpeg reads one raw rate for the
 * whole stream, so a rate change is resampled before it, in an encoder thread.
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import type { FfmpegProcess, FfmpegSpares } from './ffmpeg-spares.ts';
import { OffThreadResampling, type OpenResamplingSession } from './off-thread-resampling.ts';
import type { AudioFormat } from './formats.ts';

export const AAC_BITRATE = '64k';

/** ffmpeg output arguments per format it encodes here. */
export const FFMPEG_OUTPUT: Readonly<Partial<Record<AudioFormat, readonly string[]>>> = {
  aac: ['-c:a', 'aac', '-b:a', AAC_BITRATE, '-f', 'adts'],
};

export function ffmpegArgs(format: AudioFormat, sampleRate: number): string[] {
  const output = FFMPEG_OUTPUT[format];
  if (!output) throw new RangeError(`ffmpeg does not encode ${format} here`);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    's16le',
    '-ar',
    String(sampleRate),
    '-ac',
    '1',
    '-i',
    'pipe:0',
    ...output,
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

export class FfmpegAudioEncoder extends AudioEncoder {
  readonly #child: FfmpegProcess;
  readonly exited: Promise<void>;
  #ending: TransformCallback | undefined;
  #failure: Error | undefined;
  readonly #rate: OffThreadResampling;
  /** Writers waiting for ffmpeg's stdin to drain: one 'drain' listener serves them all. */
  #drainWaiters: TransformCallback[] = [];

  constructor(spares: FfmpegSpares, format: AudioFormat, sampleRate: number, openResampling?: OpenResamplingSession) {
    super(format, sampleRate);
    this.#rate = new OffThreadResampling(
      sampleRate,
      openResampling,
      (pcm, done) => this.#write(pcm, done),
      (error) => this.#fail(error),
    );
    this.#child = spares.take(ffmpegArgs(format, sampleRate));
    this.#child.stdout.on('data', (bytes: Buffer) => {
      // The subprocess is not paused on back-pressure: its pipe buffer bounds what it holds.
      this.push(bytes);
    });
    this.exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
    this.#child.once('error', (error) => this.#fail(error));
    this.#child.once('close', (code, signal) => {
      const ending = this.#ending;
      this.#ending = undefined;
      if (ending) ending(code === 0 ? null : new Error(`ffmpeg exited with ${code ?? signal}`));
      else if (!this.destroyed) this.#fail(new Error(`ffmpeg exited early with ${code ?? signal}`));
    });
  }

  override site(): EncodingSite | undefined {
    return this.#child.pid === undefined ? undefined : { kind: 'process', pid: this.#child.pid };
  }

  protected override encodeSamples(pcm: Int16Array, callback: TransformCallback): void {
    this.#rate.push(pcm, callback);
  }

  protected override switchRate(rate: number, callback: TransformCallback): void {
    this.#rate.switch(rate, callback);
  }

  protected override finishStream(callback: TransformCallback): void {
    this.#rate.end((error) => {
      if (error || this.#failure) return callback(error ?? this.#failure);
      this.#ending = callback;
      this.#child.stdin.end();
    });
  }

  #write(pcm: Int16Array, callback: TransformCallback): void {
    if (this.#failure) return callback(this.#failure);
    if (pcm.length === 0) return callback();
    if (this.#child.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength))) return callback();
    this.#drainWaiters.push(callback);
    if (this.#drainWaiters.length > 1) return;
    this.#child.stdin.once('drain', () => {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const waiter of waiters) waiter();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#ending = undefined;
    this.#rate.destroy();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    callback(error);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const ending = this.#ending;
    this.#ending = undefined;
    if (ending) ending(error);
    else this.destroy(error);
  }
}
