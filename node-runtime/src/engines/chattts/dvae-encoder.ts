/**
 * Waveform → audio codes with `dvae_encoder.onnx` (log-mel (B,100,F) → codes (B,4,⌊F/2⌋)): what
 * upstream's `sample_audio_speaker` does to the first sentence of a multi-sentence text before it
 * uses the codes as the audio prompt (`spk_smp`) of the sentences after it. The mel is computed
 * here (mel.ts); one waveform per run.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { engineFailure } from './failure.ts';
import { logMel, N_MELS } from './mel.ts';

export class DvaeEncoder {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly numVq: number,
  ) {}

  /**
   * One row per token (numVq codes each), as the GPT's audio positions take them.
   * @example
   * const rows = await encoder.encode(wav); // 512·T − 256 samples → T rows of 4 codes
   */
  async encode(wav: Float32Array): Promise<number[][]> {
    const { mel, frames } = logMel(wav);
    const input = new ort.Tensor('float32', mel, [1, N_MELS, frames]);
    let out: ort.Tensor | undefined;
    try {
      out = (await this.session.run({ mel: input })).codes as ort.Tensor;
      const t = out.dims[2]!;
      if (out.dims[1] !== this.numVq) throw new Error(`dvae_encoder gave ${out.dims[1]} code rows, expected ${this.numVq}`);
      const data = out.data as BigInt64Array;
      return Array.from({ length: t }, (_, ti) => Array.from({ length: this.numVq }, (_, q) => Number(data[q * t + ti]!)));
    } catch (error) {
      throw engineFailure('dvae_encoder', error);
    } finally {
      input.dispose();
      out?.dispose();
    }
  }
}
