/**
 * The encoder every format shares on the outside: a Transform whose writable side takes PCM
 * s16le mono Buffers at `sampleRate` (any chunking, odd byte counts included) and whose readable
 * side is the encoded stream, valid to send as it comes. destroy() frees whatever the encoder
 * holds (its worker session or its subprocess) at once.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { AudioFormat } from './formats.ts';

/** Where the codec runs: an encoder worker thread, an ffmpeg process, or the main thread (copy only). */
export type EncodingSite = { kind: 'thread'; threadId: number } | { kind: 'process'; pid: number } | { kind: 'inline' };

export abstract class AudioEncoder extends Transform {
  #odd: number | undefined;

  constructor(
    readonly format: AudioFormat,
    readonly sampleRate: number,
  ) {
    super({ readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
  }

  /** Undefined until the worker or process has started. */
  abstract site(): EncodingSite | undefined;

  /** Whole samples, in order. */
  protected abstract encodeSamples(pcm: Int16Array, callback: TransformCallback): void;
  protected abstract finishStream(callback: TransformCallback): void;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let bytes = chunk;
    if (this.#odd !== undefined) {
      bytes = Buffer.concat([Buffer.of(this.#odd), chunk]);
      this.#odd = undefined;
    }
    if (bytes.length % 2 === 1) {
      this.#odd = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    if (bytes.length === 0) return callback();
    // A copy that this encoder owns (and may hand to another thread): the caller may reuse its buffer.
    const pcm = new Int16Array(bytes.length / 2);
    Buffer.from(pcm.buffer).set(bytes);
    this.encodeSamples(pcm, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#odd !== undefined) return callback(new RangeError('PCM s16le stream ended inside a sample (odd byte count)'));
    this.finishStream(callback);
  }
}
