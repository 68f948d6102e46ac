/**
 * Resampling for the encoders that do not run in an encoder thread (wav and pcm copy, aac goes to
 * ffmpeg): while the input is at the response rate, samples pass straight through on the caller's
 * thread; from the first switch to another rate on, every sample goes through a resampling-only
 * worker session (the identity codec), so the event loop never runs the filter. Without a pool
 * (an encoder built standalone) it resamples in place.
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { InputRate } from './input-rate.ts';
import type { WorkerAudioEncoder } from './worker-encoder.ts';

export type OpenResamplingSession = () => WorkerAudioEncoder;

export class OffThreadResampling {
  #session: WorkerAudioEncoder | undefined;
  readonly #local: InputRate;

  /**
   * @param sink receives output-rate PCM in order; its callback is the back-pressure.
   * @param fail the owner's destroy(), for a session that fails between writes.
   */
  constructor(
    outputRate: number,
    private readonly open: OpenResamplingSession | undefined,
    private readonly sink: (pcm: Int16Array, done: TransformCallback) => void,
    private readonly fail: (error: Error) => void,
  ) {
    this.#local = new InputRate(outputRate);
  }

  push(pcm: Int16Array, callback: TransformCallback): void {
    if (this.#session) this.#session.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), (error) => callback(error));
    else this.sink(this.#local.push(pcm), callback);
  }

  switch(rate: number, callback: TransformCallback): void {
    if (!this.#session && this.open && rate !== this.#local.outputRate) {
      const tail = this.#local.end(); // nothing pending: pass-through until now
      let session: WorkerAudioEncoder;
      try {
        session = this.open();
      } catch (error) {
        return callback(error as Error); // a full pool: 503 busy, mid-stream
      }
      this.#session = session;
      // The session answers each write once, so at most one chunk is in flight to the sink;
      // the sink's own back-pressure (ffmpeg's stdin) is not waited for here.
      session.on('data', (bytes: Buffer) => this.sink(new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), () => {}));
      session.once('error', (error) => this.fail(error));
      session.setInputRate(rate);
      this.sink(tail, callback);
      return;
    }
    if (this.#session) {
      this.#session.setInputRate(rate);
      return callback();
    }
    this.sink(this.#local.switch(rate), callback);
  }

  /** Flushes the resampler; `callback` runs once every sample has reached the sink. */
  end(callback: TransformCallback): void {
    const session = this.#session;
    if (!session) return this.sink(this.#local.end(), callback);
    session.once('end', () => callback());
    session.end();
  }

  destroy(): void {
    this.#session?.destroy();
  }
}
