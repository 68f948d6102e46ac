/**
 * wav and pcm: no codec, so no worker. wav is the streaming header then the samples; pcm is the
 * samples as they are (s16le mono at the response rate, like OpenAI's pcm). Copying needs no
 * worker; resampling after setInputRate() does, and gets one (off-thread-resampling.ts).
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import { OffThreadResampling, type OpenResamplingSession } from './off-thread-resampling.ts';
import { streamingWavHeader } from './wav-header.ts';

export class InlineAudioEncoder extends AudioEncoder {
  #header: Uint8Array | undefined;
  readonly #rate: OffThreadResampling;

  constructor(format: 'wav' | 'pcm', sampleRate: number, openResampling?: OpenResamplingSession) {
    super(format, sampleRate);
    this.#header = format === 'wav' ? streamingWavHeader(sampleRate) : undefined;
    this.#rate = new OffThreadResampling(
      sampleRate,
      openResampling,
      (pcm, done) => {
        this.#emit(pcm);
        done();
      },
      (error) => this.destroy(error),
    );
  }

  override site(): EncodingSite {
    return { kind: 'inline' };
  }

  protected override encodeSamples(pcm: Int16Array, callback: TransformCallback): void {
    this.#rate.push(pcm, callback);
  }

  protected override switchRate(rate: number, callback: TransformCallback): void {
    this.#rate.switch(rate, callback);
  }

  protected override finishStream(callback: TransformCallback): void {
    this.#pushHeader(); // an empty answer is still a valid (empty) WAV
    this.#rate.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#rate.destroy();
    callback(error);
  }

  #emit(pcm: Int16Array): void {
    this.#pushHeader();
    if (pcm.length > 0) this.push(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  #pushHeader(): void {
    if (!this.#header) return;
    this.push(Buffer.from(this.#header));
    this.#header = undefined;
  }
}
