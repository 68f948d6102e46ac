/**
 * Streaming audio for one sentence: hidden states arrive one decode step at a time, and every few
 * steps the new tokens are turned into samples by decoding a window that reaches back
 * `leftContext` tokens and forward `lookahead` tokens around them.
 *
 * Why a window and a hold-back: the decoder (ConvNeXt, kernel 7, dilation 2, 12 blocks) and Vocos
 * (8 blocks) are non-causal convolutions, so a sample depends on ±52 tokens around it (spec §6.1,
 * §7). Upstream re-decodes the whole prefix every 24 tokens and cuts the new tail while it is
 * still changing (clicks at the seams, O(n²) work). Here a chunk's samples are computed with
 * `leftContext` tokens before them and are only emitted once `lookahead` tokens exist after them;
 * with both ≥ the receptive field the streamed audio equals the one-shot decode up to float
 * rounding, and with the defaults the difference is measured (the seam) and reported by the
 * tests and the bench.
 *
 * Chunks grow: the first is `chunkTokens` (time to first audio), each next one twice the last up
 * to `maxChunkTokens`, so the re-decoded context costs (left + chunk + lookahead) / chunk, which
 * falls towards 1 on long sentences.
 *
 * Sample alignment: decoding tokens [a, b) gives 512·(b − a) − 256 samples, sample 0 at token a's
 * first mel frame, so global sample 512·t is window sample 512·(t − a). The final flush pads the
 * missing half hop with zeros, as the one-shot path does: every token yields exactly 512 samples.
 * @module
 */
import type { Vocoder } from './vocoder.ts';

export const SAMPLES_PER_TOKEN = 512;

export interface StreamShape {
  /** Tokens in the first chunk; 0 = decode the whole sentence at its end (one-shot). */
  chunkTokens: number;
  maxChunkTokens: number;
  leftContext: number;
  /** Tokens that must exist after a chunk before it is emitted (≥ 1). */
  lookahead: number;
}

export class ChunkedAudio {
  private readonly hiddens: Float32Array[] = [];
  /** Tokens whose samples have been handed out. */
  private emitted = 0;
  private nextChunk: number;
  /** Milliseconds spent in the decoder, Vocos and iSTFT. */
  vocodeMs = 0;

  constructor(
    private readonly vocoder: Vocoder,
    private readonly shape: StreamShape,
  ) {
    this.nextChunk = shape.chunkTokens;
  }

  get tokens(): number {
    return this.hiddens.length;
  }

  push(hidden: Float32Array): void {
    this.hiddens.push(hidden);
  }

  /** The next chunk's samples when enough tokens (chunk + lookahead) exist, else undefined. */
  async ready(): Promise<Float32Array | undefined> {
    if (this.shape.chunkTokens === 0) return undefined;
    const upto = this.emitted + this.nextChunk;
    if (this.hiddens.length < upto + Math.max(1, this.shape.lookahead)) return undefined;
    const out = await this.decode(upto, this.hiddens.length);
    this.nextChunk = Math.min(this.shape.maxChunkTokens, this.nextChunk * 2);
    return out;
  }

  /** Everything not yet emitted, ending with the sentence's trailing half hop of silence. */
  async finish(): Promise<Float32Array> {
    if (this.emitted === this.hiddens.length) return new Float32Array(0);
    return this.decode(this.hiddens.length, this.hiddens.length);
  }

  /** Samples of tokens [emitted, upto), decoded from tokens [emitted − left, end). */
  private async decode(upto: number, end: number): Promise<Float32Array> {
    const a = Math.max(0, this.emitted - this.shape.leftContext);
    const t0 = performance.now();
    const { wav } = await this.vocoder.run(this.hiddens.slice(a, end));
    this.vocodeMs += performance.now() - t0;
    const from = (this.emitted - a) * SAMPLES_PER_TOKEN;
    const out = new Float32Array((upto - this.emitted) * SAMPLES_PER_TOKEN);
    // At the sentence end the window's wav is 256 samples short of 512 per token: zeros remain.
    out.set(wav.subarray(from, Math.min(wav.length, from + out.length)));
    this.emitted = upto;
    return out;
  }
}
