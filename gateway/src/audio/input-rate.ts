/**
 * The input side of an encoder whose engine rate may change mid-response (a failover from
 * ChatTTS at 24 kHz to flite at 16 kHz): a resampler per engine stream, flushed at each switch so
 * the output stays continuous and its length additive. Used inside the encoder worker sessions,
 * and on the main thread only by the copy formats (wav, pcm) and the ffmpeg one (aac).
 * @module
 */
import { createResampler, type Resampler } from './resampler.ts';

const EMPTY = new Int16Array(0);

export class InputRate {
  #resampler: Resampler | undefined;

  constructor(readonly outputRate: number) {}

  /** Samples at the current input rate → samples at the output rate. */
  push(pcm: Int16Array): Int16Array {
    return this.#resampler ? this.#resampler.push(pcm) : pcm;
  }

  /** Switches the input rate; returns the previous resampler's tail. */
  switch(rate: number): Int16Array {
    const tail = this.end();
    this.#resampler = rate === this.outputRate ? undefined : createResampler(rate, this.outputRate);
    return tail;
  }

  /** The tail at the end of the stream. */
  end(): Int16Array {
    const tail = this.#resampler?.flush() ?? EMPTY;
    this.#resampler = undefined;
    return tail;
  }
}
