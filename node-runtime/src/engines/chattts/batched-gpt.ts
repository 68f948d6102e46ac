/**
 * Continuous batching of GPT decode steps: every sequence that asks for its next step before the
 * next turn of the event loop is decoded in one forward pass of `gpt.onnx` (batch B, one position
 * each), so one read of the weights serves up to `maxBatch` requests. Sequences join (after their
 * own prefill) and leave (end of sentence, cancellation, failure) between steps.
 *
 * KV layout: a batch's past tensors are (B, heads, W, headDim), every row right-aligned: sequence i
 * holds its `length_i` valid columns at [W − length_i, W) and the attention mask zeroes the rest
 * (the graph masks with `where`, so a padded column contributes exactly 0). While the member set
 * stays the same, each step's presents are the next step's pasts with no copy; when it changes the
 * members' valid columns are copied into a fresh, compacted batch (one copy of their KV, about the
 * cost of one step's own KV concatenation).
 *
 * Independence: rows of a MatMul do not mix and padded columns are masked to exact zeros, so a
 * sequence's result depends on the rest of the batch only through float rounding: its softmax over
 * a padded row is summed in another SIMD grouping (measured: 0 when the padding is a multiple of 4
 * columns, ~1e-6 otherwise). The same tokens, PCM within 1–2 LSB in the tests — but not bitwise, so
 * a batching engine does not claim `deterministic`. The int8 graph quantises activations per tensor
 * (DynamicQuantizeLinear over the whole batch), so there other rows also move the quantisation
 * scale; documented in docs/chattts.md.
 *
 * Prefill (a sentence's prompt, S > 1) runs alone at batch 1; its presents become the joining
 * sequence's KV.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { engineFailure } from './failure.ts';
import type { GptDims, GptOutput, GptSequence } from './gpt.ts';

/** How long a forward waits for a decoding sequence that has not asked for its step. */
const STRAGGLER_MS = 5;

/** What a pipeline needs from the GPT stage; `Gpt` (batch 1) and `BatchedGpt` both provide it. */
export interface GptStage {
  readonly dims: GptDims;
  begin(): GptSequence;
}

/** One generation of batched KV tensors and the sequences whose KV lives in it. */
export interface KvBlock {
  tensors: ort.Tensor[];
  /** Column count W. */
  width: number;
  /** Members by row. */
  rows: Seq[];
  live: number;
}

export interface Seq {
  length: number;
  block: KvBlock | undefined;
  row: number;
  pending: { embeds: Float32Array; resolve: (o: GptOutput) => void; reject: (e: unknown) => void } | undefined;
  disposed: boolean;
}

export interface BatchStats {
  /** Batched decode forwards run so far. */
  forwards: number;
  /** Sum of their rows (mean occupancy = rows / forwards). */
  rows: number;
  /** Member-set changes that copied KV into a new block. */
  rebuilds: number;
  /** Sequences currently decoding. */
  active: number;
}

export class BatchedGpt implements GptStage {
  protected readonly pastNames: string[] = [];
  private readonly presentNames: string[] = [];
  private readonly waiting = new Set<Seq>();
  private readonly active = new Set<Seq>();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  readonly stats: BatchStats = { forwards: 0, rows: 0, rebuilds: 0, active: 0 };

  constructor(
    protected readonly session: ort.InferenceSession,
    readonly dims: GptDims,
    private readonly maxBatch: number,
    requiredInputs: string[] = ['inputs_embeds', 'attention_mask', 'position_ids'],
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    for (let i = 0; i < dims.layers; i++) {
      for (const kv of ['key', 'value']) {
        this.pastNames.push(`past_key_values.${i}.${kv}`);
        this.presentNames.push(`present.${i}.${kv}`);
      }
    }
    const missing = [...this.pastNames, ...requiredInputs].filter((n) => !session.inputNames.includes(n));
    if (missing.length > 0) throw new Error(`gpt graph lacks inputs ${missing.slice(0, 4).join(', ')}`);
  }

  begin(): GptSequence {
    const seq: Seq = { length: 0, block: undefined, row: 0, pending: undefined, disposed: false };
    this.active.add(seq);
    this.stats.active = this.active.size;
    return {
      get length() {
        return seq.length;
      },
      step: (embeds) => {
        if (seq.disposed) return Promise.reject(new Error('gpt sequence used after dispose()'));
        if (seq.pending) return Promise.reject(new Error('gpt sequence already has a step in flight'));
        const s = embeds.length / this.dims.hidden;
        if (!Number.isInteger(s) || s < 1) return Promise.reject(new Error(`embeds length ${embeds.length} is not a multiple of ${this.dims.hidden}`));
        if (seq.length === 0) return this.prefill(seq, embeds, s);
        return new Promise<GptOutput>((resolve, reject) => {
          seq.pending = { embeds, resolve, reject };
          this.waiting.add(seq);
          this.schedule();
        });
      },
      dispose: () => this.leave(seq),
    };
  }

  /**
   * A forward runs as soon as every decoding sequence has asked for its step (or a full batch
   * waits). A sequence busy with other CPU work (sampling, vocoding a chunk) asks right after it,
   * and on one thread waiting for it costs no throughput; only a sequence stalled on something
   * else (a consumer that stopped reading) is left out, after STRAGGLER_MS.
   */
  private schedule(): void {
    if (this.running || this.waiting.size === 0) return;
    let decoding = 0;
    for (const s of this.active) if (s.length > 0 && s.block) decoding++;
    const ready = this.waiting.size >= Math.min(this.maxBatch, decoding);
    if (ready) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.running && !this.scheduled) void this.flush();
      }, STRAGGLER_MS);
    }
  }

  private async flush(): Promise<void> {
    if (this.waiting.size === 0) return;
    this.running = true;
    const group = [...this.waiting].slice(0, this.maxBatch);
    for (const s of group) this.waiting.delete(s);
    try {
      const outputs = await this.forward(group);
      group.forEach((s, i) => {
        const p = s.pending!;
        s.pending = undefined;
        p.resolve(outputs[i]!);
      });
    } catch (error) {
      const failure = engineFailure('gpt step', error);
      for (const s of group) {
        const p = s.pending;
        s.pending = undefined;
        this.release(s);
        p?.reject(failure);
      }
    } finally {
      this.running = false;
      if (this.waiting.size > 0) this.schedule();
    }
  }

  protected async prefill(seq: Seq, embeds: Float32Array, s: number): Promise<GptOutput> {
    const { heads, headDim, hidden } = this.dims;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', embeds, [1, s, hidden]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(s).fill(1n), [1, s]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: s }, (_, i) => BigInt(i)),
        [1, s],
      ),
    };
    const empty = this.pastNames.map(() => new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]));
    this.pastNames.forEach((n, i) => (feeds[n] = empty[i]!));
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } catch (error) {
      throw engineFailure('gpt prefill', error);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
    const block: KvBlock = { tensors: this.presentNames.map((n) => out[n] as ort.Tensor), width: s, rows: [seq], live: 1 };
    if (seq.disposed) {
      for (const t of block.tensors) t.dispose();
    } else {
      seq.block = block;
      seq.row = 0;
      seq.length = s;
    }
    return this.take(out, [seq])[0]!;
  }

  /** One decode step for every sequence of `group` (each has a pending single-position input). */
  protected async forward(group: Seq[]): Promise<GptOutput[]> {
    const { hidden } = this.dims;
    const b = group.length;
    const first = group[0]!.block!;
    const reuse = first.rows.length === b && group.every((s, i) => s.block === first && s.row === i);
    const block = reuse ? first : this.rebuild(group);
    const w = block.width;
    const embeds = new Float32Array(b * hidden);
    const mask = new BigInt64Array(b * (w + 1));
    const positions = new BigInt64Array(b);
    group.forEach((s, i) => {
      embeds.set(s.pending!.embeds, i * hidden);
      mask.fill(1n, i * (w + 1) + (w - s.length), (i + 1) * (w + 1));
      positions[i] = BigInt(s.length);
    });
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', embeds, [b, 1, hidden]),
      attention_mask: new ort.Tensor('int64', mask, [b, w + 1]),
      position_ids: new ort.Tensor('int64', positions, [b, 1]),
    };
    this.pastNames.forEach((n, i) => (feeds[n] = block.tensors[i]!));
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } finally {
      feeds.inputs_embeds!.dispose();
      feeds.attention_mask!.dispose();
      feeds.position_ids!.dispose();
    }
    this.stats.forwards++;
    this.stats.rows += b;
    const next: KvBlock = { tensors: this.presentNames.map((n) => out[n] as ort.Tensor), width: w + 1, rows: [...group], live: 0 };
    for (const t of block.tensors) t.dispose();
    block.live = 0;
    group.forEach((s, i) => {
      s.length++;
      s.row = i;
      if (s.disposed) return;
      s.block = next;
      next.live++;
    });
    if (next.live === 0) for (const t of next.tensors) t.dispose();
    return this.take(out, group);
  }

  /** Copies the group's valid KV columns into one right-aligned block; old blocks left empty are freed. */
  private rebuild(group: Seq[]): KvBlock {
    this.stats.rebuilds++;
    const { heads, headDim } = this.dims;
    const b = group.length;
    const w = Math.max(...group.map((s) => s.length));
    const tensors = this.pastNames.map((_, k) => {
      const data = new Float32Array(b * heads * w * headDim);
      group.forEach((s, i) => {
        const src = s.block!.tensors[k]!.data as Float32Array;
        const sw = s.block!.width;
        for (let h = 0; h < heads; h++) {
          const from = ((s.row * heads + h) * sw + (sw - s.length)) * headDim;
          const to = ((i * heads + h) * w + (w - s.length)) * headDim;
          data.set(src.subarray(from, from + s.length * headDim), to);
        }
      });
      return new ort.Tensor('float32', data, [b, heads, w, headDim]);
    });
    const block: KvBlock = { tensors, width: w, rows: [...group], live: b };
    group.forEach((s, i) => {
      this.detach(s);
      s.block = block;
      s.row = i;
    });
    return block;
  }

  /** Drops a sequence's reference to its block, freeing the block when nobody else uses it. */
  protected detach(s: Seq): void {
    const old = s.block;
    s.block = undefined;
    if (!old) return;
    old.live--;
    if (old.live <= 0) for (const t of old.tensors) t.dispose();
  }

  protected take(out: ort.InferenceSession.OnnxValueMapType, group: Seq[]): GptOutput[] {
    const { hidden, numVq, audioVocab } = this.dims;
    const h = out.hidden_last as ort.Tensor;
    const l = out.logits_code as ort.Tensor;
    const hd = h.data as Float32Array;
    const ld = l.data as Float32Array;
    const per = numVq * audioVocab;
    const results = group.map((_, i) => ({
      hidden: hd.slice(i * hidden, (i + 1) * hidden),
      logits: ld.slice(i * per, (i + 1) * per),
    }));
    h.dispose();
    l.dispose();
    return results;
  }

  private release(s: Seq): void {
    this.detach(s);
    s.length = 0;
  }

  private leave(s: Seq): void {
    if (s.disposed) return;
    s.disposed = true;
    this.active.delete(s);
    this.stats.active = this.active.size;
    if (this.waiting.delete(s)) {
      s.pending?.reject(new Error('gpt sequence disposed with a step queued'));
      s.pending = undefined;
    }
    // A step in flight keeps its block until the forward returns; forward() frees it then.
    if (!s.pending) this.release(s);
    // The others may have been waiting for this one.
    this.schedule();
  }
}
