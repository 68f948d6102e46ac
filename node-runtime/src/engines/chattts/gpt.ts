/**
 * The GPT stage on `gpt.onnx` (spec §10.1): one graph for prefill (past length 0) and decode
 * (one position), the KV cache passed output-to-input. Each step's inputs — including the
 * previous step's presents — are released as soon as the run returns, so a request holds exactly
 * one generation of KV tensors and nothing survives it.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { engineFailure } from './failure.ts';

export interface GptDims {
  hidden: number;
  layers: number;
  heads: number;
  headDim: number;
  numVq: number;
  audioVocab: number;
}

export interface GptOutput {
  /** Final-normed hidden state of the last position (H); a copy the caller may keep. */
  hidden: Float32Array;
  /** Code logits (numVq × audioVocab). */
  logits: Float32Array;
}

/** One sequence's decoding state; `dispose()` releases its KV cache. Idempotent. */
export interface GptSequence {
  readonly length: number;
  step(embeds: Float32Array): Promise<GptOutput>;
  dispose(): void;
}

export class Gpt {
  private readonly pastNames: string[];
  private readonly presentNames: string[];

  constructor(
    private readonly session: ort.InferenceSession,
    readonly dims: GptDims,
  ) {
    this.pastNames = [];
    this.presentNames = [];
    for (let i = 0; i < dims.layers; i++) {
      for (const kv of ['key', 'value']) {
        this.pastNames.push(`past_key_values.${i}.${kv}`);
        this.presentNames.push(`present.${i}.${kv}`);
      }
    }
    const missing = [...this.pastNames, 'inputs_embeds', 'attention_mask', 'position_ids'].filter((n) => !session.inputNames.includes(n));
    if (missing.length > 0) throw new Error(`gpt graph lacks inputs ${missing.slice(0, 4).join(', ')}`);
  }

  begin(): GptSequence {
    const { hidden, heads, headDim } = this.dims;
    const empty = new Float32Array(0);
    let pasts: ort.Tensor[] | undefined = this.pastNames.map(() => new ort.Tensor('float32', empty, [1, heads, 0, headDim]));
    let length = 0;
    const release = () => {
      for (const t of pasts ?? []) t.dispose();
      pasts = undefined;
    };
    return {
      get length() {
        return length;
      },
      step: async (embeds) => {
        if (!pasts) throw new Error('gpt sequence used after dispose()');
        const s = embeds.length / hidden;
        if (!Number.isInteger(s) || s < 1) throw new Error(`embeds length ${embeds.length} is not a multiple of ${hidden}`);
        const total = length + s;
        const feeds: Record<string, ort.Tensor> = {
          inputs_embeds: new ort.Tensor('float32', embeds, [1, s, hidden]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
          position_ids: new ort.Tensor(
            'int64',
            BigInt64Array.from({ length: s }, (_, i) => BigInt(length + i)),
            [1, s],
          ),
        };
        this.pastNames.forEach((n, i) => (feeds[n] = pasts![i]!));
        let out: ort.InferenceSession.OnnxValueMapType;
        try {
          out = await this.session.run(feeds);
        } catch (error) {
          release();
          throw engineFailure('gpt step', error);
        } finally {
          feeds.inputs_embeds!.dispose();
          feeds.attention_mask!.dispose();
          feeds.position_ids!.dispose();
        }
        for (const t of pasts) t.dispose();
        pasts = this.presentNames.map((n) => out[n] as ort.Tensor);
        length = total;
        const h = out.hidden_last as ort.Tensor;
        const l = out.logits_code as ort.Tensor;
        const result = { hidden: new Float32Array(h.data as Float32Array), logits: new Float32Array(l.data as Float32Array) };
        h.dispose();
        l.dispose();
        return result;
      },
      dispose: release,
    };
  }
}
