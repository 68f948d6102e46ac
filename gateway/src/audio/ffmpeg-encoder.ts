/**
 * An AudioEncoder backed by an ffmpeg subprocess (a warm spare from FfmpegSpares): PCM to its
 * stdin, the encoded stream from its stdout. Used for AAC, the format with no good encoder on
 * npm (docs/audio-formats.md). destroy() kills the process.
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import type { FfmpegProcess, FfmpegSpares } from './ffmpeg-spares.ts';
import type { AudioFormat } from './formats.ts';

export const AAC_BITRATE = '64k';

/** ffmpeg output arguments per format it encodes here. */
export const FFMPEG_OUTPUT: Readonly<Partial<Record<AudioFormat, readonly string[]>>> = {
  aac: ['-c:a', 'aac', '-b:a', AAC_BITRATE, '-f', 'adts'],
};

export function ffmpegArgs(format: AudioFormat, sampleRate: number): string[] {
  const output = FFMPEG_OUTPUT[format];
  if (!output) throw new RangeError(`ffmpeg does not encode ${format} here`);
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 's16le', '-ar', String(sampleRate), '-ac', '1', '-i', 'pipe:0', ...output, '-flush_packets', '1', 'pipe:1'];
}

export class FfmpegAudioEncoder extends AudioEncoder {
  readonly #child: FfmpegProcess;
  readonly exited: Promise<void>;
  #ending: TransformCallback | undefined;
  #failure: Error | undefined;

  constructor(spares: FfmpegSpares, format: AudioFormat, sampleRate: number) {
    super(format, sampleRate);
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
    if (this.#failure) return callback(this.#failure);
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (this.#child.stdin.write(bytes)) callback();
    else this.#child.stdin.once('drain', () => callback());
  }

  protected override finishStream(callback: TransformCallback): void {
    if (this.#failure) return callback(this.#failure);
    this.#ending = callback;
    this.#child.stdin.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#ending = undefined;
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
