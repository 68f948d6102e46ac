/**
 * wav and pcm: no codec, so no worker. wav is the streaming header then the samples; pcm is the
 * samples as they are (s16le mono at the response rate, like OpenAI's pcm).
 * @module
 */
import type { TransformCallback } from 'node:stream';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import { streamingWavHeader } from './wav-header.ts';

export class InlineAudioEncoder extends AudioEncoder {
  #header: Uint8Array | undefined;

  constructor(format: 'wav' | 'pcm', sampleRate: number) {
    super(format, sampleRate);
    this.#header = format === 'wav' ? streamingWavHeader(sampleRate) : undefined;
  }

  override site(): EncodingSite {
    return { kind: 'inline' };
  }

  protected override encodeSamples(pcm: Int16Array, callback: TransformCallback): void {
    this.#pushHeader();
    callback(null, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  protected override finishStream(callback: TransformCallback): void {
    this.#pushHeader(); // an empty answer is still a valid (empty) WAV
    callback();
  }

  #pushHeader(): void {
    if (!this.#header) return;
    this.push(Buffer.from(this.#header));
    this.#header = undefined;
  }
}
