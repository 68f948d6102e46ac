/**
 * Hidden states → waveform (spec §6.1, §7): `decoder.onnx` (hiddens (1,H,T) → mel (1,100,2T)),
 * `vocos.onnx` (mel → mag, cos, sin (1,513,2T)), then the TypeScript iSTFT. Runs once per
 * sentence over all its tokens; the decoder is non-causal, so whole-sentence decoding is exact.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { engineFailure } from './failure.ts';
import { istft } from './istft.ts';

export interface VocodeResult {
  mel: Float32Array;
  mag: Float32Array;
  cos: Float32Array;
  sin: Float32Array;
  frames: number;
  wav: Float32Array;
}

export class Vocoder {
  constructor(
    private readonly decoder: ort.InferenceSession,
    private readonly vocos: ort.InferenceSession,
    private readonly hidden: number,
  ) {}

  /** hiddens: T rows of H values, token-major as collected during decoding. */
  async run(hiddens: Float32Array[]): Promise<VocodeResult> {
    const t = hiddens.length;
    const h = this.hidden;
    // (T,H) → (1,H,T): the decoder convolves over time with channels first.
    const x = new Float32Array(h * t);
    hiddens.forEach((row, ti) => {
      for (let c = 0; c < h; c++) x[c * t + ti] = row[c]!;
    });
    const input = new ort.Tensor('float32', x, [1, h, t]);
    let melT: ort.Tensor | undefined;
        try {
      melT = (await this.decoder.run({ hiddens: input })).mel as ort.Tensor;
      const outs = await this.vocos.run({ mel: melT });
      const frames = melT.dims[2]!;
      const mel = new Float32Array(melT.data as Float32Array);
      const mag = (outs.mag as ort.Tensor).data as Float32Array;
      const cos = (outs.cos as ort.Tensor).data as Float32Array;
      const sin = (outs.sin as ort.Tensor).data as Float32Array;
      return { mel, mag, cos, sin, frames, wav: istft(mag, cos, sin, frames) };
    } catch (error) {
      throw engineFailure('vocoder', error);
    } finally {
      input.dispose();
      melT?.dispose();
    }
  }
}
