/**
 * Hidden states → waveform (spec §6.1, §7): `decoder.onnx` (hiddens (B,H,T) → mel (B,100,2T)),
 * `vocos.onnx` (mel → mag, cos, sin (B,513,2T)), then the TypeScript iSTFT per item.
 *
 * Batching (when enabled, with continuous batching of the GPT): windows requested in the same turn
 * of the event loop with the same token count run as one batch. Only equal lengths share a run —
 * the graphs are non-causal convolutions, and zero-padding a shorter window would change its last
 * ~50 tokens — and a batch item's result is the same as its own batch-1 run.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { engineFailure } from './failure.ts';
import { BINS, istft } from './istft.ts';

export interface VocodeResult {
  mel: Float32Array;
  mag: Float32Array;
  cos: Float32Array;
  sin: Float32Array;
  frames: number;
  wav: Float32Array;
}

interface Queued {
  x: Float32Array;
  resolve: (r: VocodeResult) => void;
  reject: (e: unknown) => void;
}

export class Vocoder {
  private readonly queue = new Map<number, Queued[]>();
  private scheduled = false;
  /** Decoder + Vocos runs and the windows they decoded (mean batch = items / runs). */
  readonly stats = { runs: 0, items: 0 };

  constructor(
    private readonly decoder: ort.InferenceSession,
    private readonly vocos: ort.InferenceSession,
    private readonly hidden: number,
    private readonly batching = false,
  ) {}

  /** hiddens: T rows of H values, token-major as collected during decoding. */
  run(hiddens: Float32Array[]): Promise<VocodeResult> {
    const t = hiddens.length;
    const h = this.hidden;
    // (T,H) → (H,T): the decoder convolves over time with channels first.
    const x = new Float32Array(h * t);
    hiddens.forEach((row, ti) => {
      for (let c = 0; c < h; c++) x[c * t + ti] = row[c]!;
    });
    if (!this.batching) return this.runBatch([x], t).then((r) => r[0]!);
    return new Promise<VocodeResult>((resolve, reject) => {
      const list = this.queue.get(t) ?? [];
      list.push({ x, resolve, reject });
      this.queue.set(t, list);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const groups = [...this.queue.entries()];
    this.queue.clear();
    for (const [t, items] of groups) {
      try {
        const out = await this.runBatch(
          items.map((i) => i.x),
          t,
        );
        items.forEach((item, i) => item.resolve(out[i]!));
      } catch (error) {
        for (const item of items) item.reject(error);
      }
    }
  }

  private async runBatch(xs: Float32Array[], t: number): Promise<VocodeResult[]> {
    const b = xs.length;
    const h = this.hidden;
    const x = new Float32Array(b * h * t);
    xs.forEach((one, i) => x.set(one, i * h * t));
    const input = new ort.Tensor('float32', x, [b, h, t]);
    let melT: ort.Tensor | undefined;
    let outs: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      melT = (await this.decoder.run({ hiddens: input })).mel as ort.Tensor;
      outs = await this.vocos.run({ mel: melT });
      this.stats.runs++;
      this.stats.items += b;
      const frames = melT.dims[2]!;
      const melAll = melT.data as Float32Array;
      const [mag, cos, sin] = (['mag', 'cos', 'sin'] as const).map((k) => (outs![k] as ort.Tensor).data as Float32Array) as [
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const per = BINS * frames;
      const melPer = melAll.length / b;
      return xs.map((_, i) => {
        const m = mag.slice(i * per, (i + 1) * per);
        const c = cos.slice(i * per, (i + 1) * per);
        const s = sin.slice(i * per, (i + 1) * per);
        return { mel: melAll.slice(i * melPer, (i + 1) * melPer), mag: m, cos: c, sin: s, frames, wav: istft(m, c, s, frames) };
      });
    } catch (error) {
      throw engineFailure('vocoder', error);
    } finally {
      input.dispose();
      melT?.dispose();
      if (outs) for (const k of ['mag', 'cos', 'sin']) (outs[k] as ort.Tensor | undefined)?.dispose();
    }
  }
}
