/**
 * The encoder every format shares on the outside: a Transform whose writable side takes PCM
 * s16le mono Buffers at `sampleRate` (any chunking, odd byte counts included) and whose readable
 * side is the encoded stream, valid to send as it comes. destroy() frees whatever the encoder
 * holds (its worker session or its subprocess) at once.
 *
 * setInputRate(rate) says that the PCM written from now on is at `rate` (an engine at another
 * rate took over): the encoder resamples it to `sampleRate`, in order with the writes, inside the
 * encoder thread for mp3, opus and flac. It is the alternative to resampling with
 * createResampler() before writing, which would run on the caller's (event-loop) thread.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { AudioFormat } from './formats.ts';

/** Where the codec runs: an encoder worker thread, an ffmpeg process, or the main thread (copy only). */
export type EncodingSite = { kind: 'thread'; threadId: number } | { kind: 'process'; pid: number } | { kind: 'inline' };

/** Zero-length chunks that carry a rate change through the writable queue, in order. */
const RATE_CHANGES = new WeakMap<Buffer, number>();

export abstract class AudioEncoder extends Transform {
  #odd: number | undefined;
  #inputRate: number;

  constructor(
    readonly format: AudioFormat,
    readonly sampleRate: number,
  ) {
    super({ readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#inputRate = sampleRate;
  }

  /**
   * The PCM written after this call is at `rate` Hz.
   * @example
   * encoder.setInputRate(16000); // flite took over from ChatTTS
   * encoder.write(fliteChunk);
   */
  setInputRate(rate: number): void {
    if (!Number.isInteger(rate) || rate < 1000 || rate > 384_000) throw new RangeError(`sample rate ${rate} is out of range`);
    const marker = Buffer.alloc(0);
    RATE_CHANGES.set(marker, rate);
    this.write(marker);
  }

  /** The rate of the PCM being written now (as of the last setInputRate() that was processed). */
  get inputRate(): number {
    return this.#inputRate;
  }

  /** Undefined until the worker or process has started. */
  abstract site(): EncodingSite | undefined;

  /** Whole samples, in order. */
  protected abstract encodeSamples(pcm: Int16Array, callback: TransformCallback): void;
  protected abstract finishStream(callback: TransformCallback): void;
  /** From now on input is at `rate`; the resampling of the previous rate is flushed. */
  protected abstract switchRate(rate: number, callback: TransformCallback): void;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const rate = RATE_CHANGES.get(chunk);
    if (rate !== undefined) {
      if (this.#odd !== undefined) return callback(new RangeError('input rate changed inside a sample (odd byte count)'));
      if (rate === this.#inputRate) return callback();
      this.#inputRate = rate;
      return this.switchRate(rate, callback);
    }
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
