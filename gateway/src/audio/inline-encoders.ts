/**
 * wav and pcm: no codec, so no worker. wav is the streaming header then the samples; pcm is the
 * samples as they are (s16le mono at the response rate, like OpenAI's pcm). A rate change is
 * resampled here, on the caller's thread: these formats have no worker to do it in.
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import { InputRate } from './input-rate.ts';
import { streamingWavHeader } from './wav-header.ts';

export class InlineAudioEncoder extends AudioEncoder {
  #header: Uint8Array | undefined;
  readonly #rate: InputRate;

  constructor(format: 'wav' | 'pcm', sampleRate: number) {
    super(format, sampleRate);
    this.#header = format === 'wav' ? streamingWavHeader(sampleRate) : undefined;
    this.#rate = new InputRate(sampleRate);
  }

  override site(): EncodingSite {
    return { kind: 'inline' };
  }

  protected override encodeSamples(pcm: Int16Array, callback: TransformCallback): void {
    this.#emit(this.#rate.push(pcm));
    callback();
  }

  protected override switchRate(rate: number, callback: TransformCallback): void {
    this.#emit(this.#rate.switch(rate));
    callback();
  }

  protected override finishStream(callback: TransformCallback): void {
    this.#pushHeader(); // an empty answer is still a valid (empty) WAV
    this.#emit(this.#rate.end());
    callback();
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
